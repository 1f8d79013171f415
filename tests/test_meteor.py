"""METEOR through pycocoevalcap's jar in `-l other` mode: Korean scores, additivity of the stats, and a
jar that is missing, dies or hangs."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pycocoevalcap", reason="METEOR needs pycocoevalcap's jar")
if shutil.which("java") is None:
    pytest.skip("METEOR needs a Java runtime", allow_module_level=True)

from test_caption_metrics import caption_set, tokenize_set

from kobench.metrics.meteor import (
    CHUNKS_COLUMN,
    JAVA_MISSING,
    STATS_LENGTH,
    Meteor,
    MeteorError,
    meteor_signature,
)

CAT = "고양이 가 소파 위 에서 자 고 있 다"
BUS = "빨갛 ᆫ 버스 두 대 도로 를 달리 ㄴ다"


@pytest.fixture(scope="module")
def meteor() -> Meteor:
    with Meteor(timeout=60) as m:
        yield m


def test_korean_identical_scores_high_and_unrelated_zero(meteor: Meteor) -> None:
    score, stats = meteor.score([[CAT], [CAT], [CAT]], [CAT, BUS, "고양이 가 자 고 있 다"])
    identical, unrelated, partial = score.per_unit
    assert identical > 0.95
    # no shared morpheme, so no match: with pycocoevalcap's default `-l en -norm` Hangul is split into
    # syllables and unrelated sentences still score about 0.15
    assert unrelated == 0.0
    assert 0.3 < partial < identical
    assert stats.shape == (3, STATS_LENGTH)
    assert stats[1, 4] == 0 and stats[2, 4] == 6  # exact-stage test matches


def test_paraphrase_beats_unrelated_caption(meteor: Meteor) -> None:
    refs, para, unrel = tokenize_set(*caption_set(200, seed=2))
    good, _ = meteor.score(refs, para)
    bad, _ = meteor.score(refs, unrel)
    assert good.value > bad.value + 0.1
    # per image too, mostly: a terse paraphrase can share fewer morphemes than a long unrelated caption
    assert sum(g > b for g, b in zip(good.per_unit, bad.per_unit, strict=True)) >= 160


def test_only_exact_matches_count(meteor: Meteor) -> None:
    # `-l other` has no stemmer, synonyms or paraphrases: 고양이 vs 고양이들 and cats vs cat do not match
    score, stats = meteor.score([["고양이들 이 자 ㄴ다"], ["cats sleep"]], ["고양이 가", "cat sleeps"])
    assert score.per_unit == [0.0, 0.0]
    assert stats[:, 4:20].sum() == 0


def test_empty_prediction_is_an_empty_hypothesis(meteor: Meteor) -> None:
    # Without care the last reference would be read as the hypothesis ("SCORE ||| a |||" is an error).
    score, stats = meteor.score([[CAT, BUS]], [""])
    assert score.per_unit == [0.0] and score.value == 0.0
    assert stats[0, 0] == 0  # hypothesis length
    assert stats[0, 1] in (len(CAT.split()), len(BUS.split()))


def test_field_separator_in_input_is_removed(meteor: Meteor) -> None:
    score, _ = meteor.score([[CAT]], [CAT.replace("소파", "소파 |||")])
    assert score.per_unit[0] > 0.95


def test_summed_stats_give_the_jars_corpus_score() -> None:
    refs, para, unrel = caption_set(120, seed=7)
    tok_refs, tok_para, tok_unrel = tokenize_set(refs, para, unrel)
    preds = list(tok_para)
    preds[:20] = [r[0] for r in tok_refs[:20]]  # perfect matches: the non-additive case
    preds[20:40] = tok_unrel[20:40]
    preds[41] = ""
    with Meteor(timeout=60) as m:
        score, stats = m.score(tok_refs, preds)
        assert len(score.per_unit) == len(preds)
        assert m.aggregate(stats.sum(axis=0)) == pytest.approx(score.value, abs=1e-12)
        # The jar's own aggregation leaves out the chunk of a perfect segment: with the raw chunk of 1
        # the sum would not reproduce the corpus score.
        raw = stats.copy()
        raw[:20, CHUNKS_COLUMN] = 1.0
        assert stats[:20, CHUNKS_COLUMN].sum() == 0
        assert abs(m.aggregate(raw.sum(axis=0)) - score.value) > 1e-4
        # each row alone still scores what the jar said for that segment
        assert m.aggregate_many(stats) == pytest.approx(score.per_unit, abs=1e-12)
        rows = np.stack([stats[:60].sum(axis=0), stats[60:].sum(axis=0), stats.sum(axis=0)])
        assert m.aggregate_many(rows) == pytest.approx([m.aggregate(r) for r in rows], abs=1e-12)


def test_missing_java_is_a_clear_error() -> None:
    with pytest.raises(MeteorError) as err:
        Meteor(java="/nonexistent/java")
    assert str(err.value).startswith(JAVA_MISSING)
    assert "apt-get install default-jre-headless" in str(err.value)


def _script(path: Path, body: str) -> str:
    path.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def test_a_hanging_jar_is_cut_by_the_timeout(tmp_path: Path) -> None:
    java = _script(tmp_path / "java", "echo starting >&2\nexec sleep 60")
    m = Meteor(timeout=1, java=java)
    with pytest.raises(MeteorError, match=r"no answer .* within 1 s(.|\n)*starting"):  # not the jar's exit
        m.score([[CAT]], [CAT])
    assert m._proc.poll() is not None  # killed, not left running
    with pytest.raises(MeteorError, match="closed"):
        m.score([[CAT]], [CAT])


def test_a_dying_jar_reports_its_stderr(tmp_path: Path) -> None:
    java = _script(tmp_path / "java", "echo 'Exception in thread main: boom' >&2\nexit 3")
    with Meteor(timeout=30, java=java) as m, pytest.raises(MeteorError, match=r"exited(.|\n)*boom"):
        m.score([[CAT]], [CAT])


def test_close_stops_the_jar() -> None:
    m = Meteor(timeout=60)
    m.score([[CAT]], [CAT])
    m.close()
    assert m._proc.wait(timeout=5) is not None
    m.close()  # twice is fine


def test_signature() -> None:
    assert meteor_signature() == "meteor-1.5@1(-l other)"
