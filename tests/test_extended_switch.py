"""The extended suites run only when asked for (scripts/test.sh --extended sets KOBENCH_EXTENDED=1)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).with_name("conftest.py")


@pytest.mark.parametrize(("flag", "outcome"), [(None, {"passed": 1, "skipped": 1}), ("1", {"passed": 2})])
def test_extended_tests_need_the_flag(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, flag: str | None, outcome: dict
) -> None:
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\nmarkers =\n    extended: long suites\n")
    pytester.makepyfile(
        """
        import pytest

        def test_everyday():
            pass

        @pytest.mark.extended
        def test_soak():
            pass
        """
    )
    if flag is None:
        monkeypatch.delenv("KOBENCH_EXTENDED", raising=False)
    else:
        monkeypatch.setenv("KOBENCH_EXTENDED", flag)
    # Inside a suite run on several workers: the inner run is one plain process (no benchmark warnings).
    pytester.runpytest("-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:benchmark").assert_outcomes(
        **outcome
    )
