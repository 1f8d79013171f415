"""One hostile image fails its own row, never the run: a decompression bomb, a symlink to /dev/zero, a FIFO,
a symlink out of the dataset folder, a directory named like an image, a truncated PNG, a file that is no
image... Each is refused with a stable reason (the same text for every image refused for the same reason,
no paths, sizes or memory addresses), and a real `kobench run` process completes with the other rows
scored. The one symlink target outside the folder that is read is the Hub cache's own blob store.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from kobench.images import (
    DEFAULT_MAX_PIXELS,
    ENV_MAX_BYTES,
    ImageError,
    ImageLimits,
    limits,
    set_limits,
)
from kobench.llm.client import image_data_url
from kobench.results import load_results
from kobench.testing.fake_openai import FakeOpenAIServer, Reply
from kobench.types import ImageRef

SAFETY = 300  # seconds: a safety net for a run that hangs, never a measure of speed
BYTE_LIMIT = 100_000  # KOBENCH_MAX_IMAGE_BYTES in the runs below (the default is 64 MiB)
REFUSED_OUT = "image refused: its real path (symlinks followed) leaves the dataset folder"
TOO_MANY_PIXELS = f"image refused: more than {DEFAULT_MAX_PIXELS:,} pixels ($KOBENCH_MAX_IMAGE_PIXELS)"


def png(colour: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid 1-bit PNG of width x height, all black: some 50 KB on disk, 400 million pixels decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    pixels = zlib.compress(row * height, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def noise_png(side: int = 256) -> bytes:
    """A PNG that does not compress: side * side * 3 bytes and more."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


# --- the bad images: each writes images/<name> under the dataset folder `root` --------------------------


def _bomb(path: Path, root: Path) -> None:
    path.write_bytes(bomb_png())


def _dev_zero(path: Path, root: Path) -> None:
    path.symlink_to("/dev/zero")


def _fifo(path: Path, root: Path) -> None:
    os.mkfifo(path)


def _out_of_root(path: Path, root: Path) -> None:
    outside = root.parent / f"outside-{root.name}.png"
    outside.write_bytes(png())  # a perfectly good image, but not the dataset's to give
    path.symlink_to(outside)


def _directory_out_of_root(path: Path, root: Path) -> None:
    """A folder of the dataset that is a symlink elsewhere: the path as written stays inside."""
    elsewhere = root.parent / f"elsewhere-{root.name}"
    elsewhere.mkdir()
    (elsewhere / "x.png").write_bytes(png())
    (root / "images" / "linked").symlink_to(elsewhere, target_is_directory=True)


def _directory(path: Path, root: Path) -> None:
    path.mkdir()


def _truncated(path: Path, root: Path) -> None:
    data = png(size=(64, 64))
    path.write_bytes(data[: len(data) // 2])


def _text(path: Path, root: Path) -> None:
    path.write_text("이것은 그림이 아닙니다\n", encoding="utf-8")


def _empty(path: Path, root: Path) -> None:
    path.write_bytes(b"")


def _magic_then_garbage(path: Path, root: Path) -> None:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 40)


def _loop(path: Path, root: Path) -> None:
    path.symlink_to(path.with_name("loop-b.png"))
    path.with_name("loop-b.png").symlink_to(path)


def _missing(path: Path, root: Path) -> None:
    pass


def _over_byte_limit(path: Path, root: Path) -> None:
    path.write_bytes(noise_png())  # over BYTE_LIMIT


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path, Path], None]
    reason: str  # the stable reason ImageRef gives
    file: str = ""  # the image path written in the row (default: images/<name>.png)
    decodes_header: bool = False  # the header reads: only decoding the pixels finds the fault

    @property
    def relative(self) -> str:
        return self.file or f"images/{self.name}.png"


CASES = [
    Case("bomb-20000x20000-png", _bomb, TOO_MANY_PIXELS),
    Case("symlink-to-dev-zero", _dev_zero, REFUSED_OUT),
    Case("fifo", _fifo, "image refused: not a regular file (a FIFO)"),
    Case("symlink-out-of-root", _out_of_root, REFUSED_OUT),
    Case("symlinked-folder-out-of-root", _directory_out_of_root, REFUSED_OUT, file="images/linked/x.png"),
    Case("directory-named-png", _directory, "image refused: not a regular file (a directory)"),
    Case("truncated-png", _truncated, "image data is truncated", decodes_header=True),
    Case("text-file-named-png", _text, "not an image (no image format recognised)"),
    Case("empty-file", _empty, "not an image (no image format recognised)"),
    Case(
        "png-magic-then-garbage",
        _magic_then_garbage,
        "unreadable image header (OSError: Truncated File Read)",
    ),
    Case("symlink-loop", _loop, "image path cannot be resolved (Too many levels of symbolic links)"),
    Case("missing-file", _missing, "image file not found"),
    Case(
        "over-byte-limit",
        _over_byte_limit,
        f"image refused: larger than {BYTE_LIMIT:,} bytes (${ENV_MAX_BYTES})",
    ),
]
IDS = [c.name for c in CASES]


@pytest.fixture()
def byte_limit():
    set_limits(ImageLimits(max_bytes=BYTE_LIMIT))
    yield
    set_limits(None)


def _place(case: Case, root: Path) -> ImageRef:
    (root / "images").mkdir(parents=True, exist_ok=True)
    case.make(root / case.relative, root)
    return ImageRef(path=str(root / case.relative), root=str(root))


# --- each bad image, on its own ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_bad_image_is_refused_with_a_stable_reason(case: Case, tmp_path: Path, byte_limit: None) -> None:
    reasons = []
    for copy in ("one", "two"):  # the same fault in two folders: the same words
        ref = _place(case, tmp_path / copy)
        with pytest.raises(ImageError) as decoding:
            ref.load()
        reasons.append(str(decoding.value))
        if case.decodes_header:
            assert ref.size() == (64, 64)  # the header is sound: only decoding finds it out
        else:
            with pytest.raises(ImageError) as header:
                ref.size()
            assert str(header.value) == str(decoding.value)
        with pytest.raises(ValueError, match="not a readable image: ") as sending:
            image_data_url(ref)  # the API adapter's encoding refuses it too, never sends it
        assert str(sending.value) == f"not a readable image: {case.reason}"
    assert reasons == [case.reason, case.reason]
    assert "0x" not in reasons[0] and str(tmp_path) not in reasons[0]


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("/dev/zero", "image refused: not a regular file (a character device)"),
        ("/dev/null", "image refused: not a regular file (a character device)"),
    ],
    ids=["dev-zero-no-root", "dev-null-no-root"],
)
def test_a_device_is_refused_without_a_dataset_folder(target: str, reason: str, tmp_path: Path) -> None:
    """Hub rows carry paths with no folder to stay in; a device is still never read."""
    link = tmp_path / "a.png"
    link.symlink_to(target)
    with pytest.raises(ImageError, match=f"^{reason}$".replace("(", r"\(").replace(")", r"\)")):
        ImageRef(path=str(link)).read_bytes()


def test_bytes_held_in_the_dataset_obey_the_limits(byte_limit: None) -> None:
    big = ImageRef(data=noise_png())
    assert len(big.sha256()) == 64  # the identity of the data still hashes what is held
    with pytest.raises(ImageError, match=r"larger than 100,000 bytes"):
        big.load()
    with pytest.raises(ImageError, match="more than 89,478,485 pixels"):
        ImageRef(data=bomb_png()).size()


def test_the_limits_come_from_the_environment() -> None:
    assert ImageLimits.from_environment({}) == ImageLimits(64 * 1024 * 1024, 89_478_485)
    given = ImageLimits.from_environment(
        {"KOBENCH_MAX_IMAGE_BYTES": "1_000", "KOBENCH_MAX_IMAGE_PIXELS": "50"}
    )
    assert given == ImageLimits(1000, 50)
    for bad in ("0", "-5", "lots", "1.5"):
        with pytest.raises(Exception, match=r"\$KOBENCH_MAX_IMAGE_PIXELS=.*positive whole number") as err:
            ImageLimits.from_environment({"KOBENCH_MAX_IMAGE_PIXELS": bad})
        assert getattr(err.value, "exit_code", None) == 4


def test_a_pixel_limit_set_lower_or_higher_than_pils_is_kobenchs(tmp_path: Path) -> None:
    small = ImageRef(data=png(size=(32, 24)))
    try:
        set_limits(ImageLimits(max_pixels=700))
        with pytest.raises(ImageError, match=r"more than 700 pixels"):
            small.load()
        set_limits(ImageLimits(max_pixels=500_000_000))  # above PIL's own bomb limit: the bomb decodes
        assert ImageRef(data=bomb_png()).size() == (20_000, 20_000)
    finally:
        set_limits(None)
    assert limits().max_pixels == DEFAULT_MAX_PIXELS


# --- the Hub cache's blob store: the one place outside the folder that symlinks may lead --------------------


def _hub_repo(cache: Path) -> tuple[Path, Path]:
    """A dataset in a Hub cache: its snapshot folder and its blob store, where images/a.png points."""
    repo = cache / "datasets--NCSOFT--K-SEED"
    snapshot = repo / "snapshots" / "0123abcd"
    (snapshot / "images").mkdir(parents=True)
    (repo / "blobs").mkdir()
    (repo / "blobs" / "9f86d081884c7d65").write_bytes(png((1, 2, 3)))
    (snapshot / "images" / "a.png").symlink_to("../../../blobs/9f86d081884c7d65")
    return snapshot, repo / "blobs"


def test_a_snapshot_reads_its_own_blobs(tmp_path: Path) -> None:
    snapshot, _ = _hub_repo(tmp_path / "hub")
    ref = ImageRef(path=str(snapshot / "images" / "a.png"), root=str(snapshot))
    assert ref.load().getpixel((0, 0)) == (1, 2, 3)


def test_a_local_mirror_reads_the_hub_caches_blobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An older `hf download --local-dir` left symlinks into the machine's Hub cache."""
    from huggingface_hub import constants

    _, blobs = _hub_repo(tmp_path / "hub")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    mirror = tmp_path / "data" / "NCSOFT" / "K-SEED"
    (mirror / "images").mkdir(parents=True)
    (mirror / "images" / "a.png").symlink_to(blobs / "9f86d081884c7d65")
    ref = ImageRef(path=str(mirror / "images" / "a.png"), root=str(mirror))
    assert ref.load().getpixel((0, 0)) == (1, 2, 3)


def test_a_blob_store_elsewhere_is_out_of_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder merely named like a Hub repository's blobs, outside this machine's Hub cache, is not one."""
    from huggingface_hub import constants

    _, blobs = _hub_repo(tmp_path / "not-the-cache")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    mirror = tmp_path / "data"
    (mirror / "images").mkdir(parents=True)
    (mirror / "images" / "a.png").symlink_to(blobs / "9f86d081884c7d65")
    with pytest.raises(ImageError, match="leaves the dataset folder"):
        ImageRef(path=str(mirror / "images" / "a.png"), root=str(mirror)).load()


# --- a real run over a dataset holding every bad image ---------------------------------------------------

GOOD = 3


def _dataset(data_dir: Path) -> Path:
    """DIR/NCSOFT/K-SEED/test.jsonl: GOOD good rows, then one row per bad image (question_id = its name)."""
    root = data_dir / "NCSOFT" / "K-SEED"
    (root / "images").mkdir(parents=True)
    rows = []
    for i in range(GOOD):
        (root / "images" / f"good-{i}.png").write_bytes(png((40 * i, 90, 160)))
        rows.append((f"good-{i}", f"images/good-{i}.png"))
    for case in CASES:
        _place(case, root)
        rows.append((case.name, case.relative))
    with (root / "test.jsonl").open("w", encoding="utf-8") as fh:
        for rid, image in rows:
            row = {
                "question_id": rid,
                "question": f"그림 {rid}에 무엇이 있습니까?",
                "choice_a": "고양이",
                "choice_b": "강아지",
                "choice_c": "자동차",
                "choice_d": "나무",
                "answer": "A",
                "data_type": "image",
                "image": image,
            }
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return data_dir


def _run(model: str, data_dir: Path, out: Path, cache: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "kobench",
        "run",
        "--model",
        model,
        "--tasks",
        "k-seed",
        "--data-dir",
        str(data_dir),
        "--output",
        str(out),
        "--cache-dir",
        str(cache),
        "--max-failed-share",
        "1",
        "--no-progress",
        *extra,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOBENCH_")}
    env[ENV_MAX_BYTES] = str(BYTE_LIMIT)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=SAFETY)


def _samples(out: Path) -> dict[str, dict]:
    lines = (out / "samples" / "k-seed.jsonl").read_text(encoding="utf-8").splitlines()
    return {record["id"]: record for record in map(json.loads, lines)}


@pytest.fixture(scope="module")
def api_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two runs of the openai adapter against a loopback server, each with its own cache."""
    base = tmp_path_factory.mktemp("hostile-api")
    data = _dataset(base / "data")
    outs = []
    with FakeOpenAIServer(lambda body, index: Reply(text="A")) as server:
        for n in (1, 2):
            done = _run(f"openai:vlm@{server.base_url}", data, base / f"out{n}", base / f"cache{n}")
            assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
            outs.append(base / f"out{n}")
        # Nothing refused was sent, not even the truncated PNG whose header is sound: no paid call wasted.
        assert server.calls == 2 * GOOD
    return outs


def _api_error(case: Case) -> str:
    if case.decodes_header:  # the run reads headers; the adapter decodes before it sends
        return f"request not sent: not a readable image: {case.reason}"
    return f"unreadable image: {case.reason}"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_run_fails_only_the_bad_row(case: Case, api_runs: list[Path]) -> None:
    first, second = (_samples(out) for out in api_runs)
    assert all(first[f"good-{i}"]["status"] == "scored" for i in range(GOOD))  # nothing else was lost
    record = first[case.name]
    assert record["status"] == "failed" and record["error"] == _api_error(case)
    assert second[case.name]["error"] == record["error"]  # the same words run after run


def test_the_run_completes_and_groups_the_reasons(api_runs: list[Path]) -> None:
    results = [load_results(out / "results.json") for out in api_runs]
    assert all(r.status == "complete" for r in results)
    task = results[0].tasks["k-seed"]
    assert task.n_failed == len(CASES) and task.n == GOOD
    expected: dict[str, int] = {}
    for case in CASES:
        why = _api_error(case)
        expected[why] = expected.get(why, 0) + 1
    assert task.failure_reasons == expected  # one count per kind of fault, not one per image
    assert results[1].tasks["k-seed"].failure_reasons == expected
    # The limits the images were refused beyond are part of the run's record (the environment set them).
    assert results[0].run.image_limits == {"max_bytes": BYTE_LIMIT, "max_pixels": DEFAULT_MAX_PIXELS}


@pytest.mark.slow
def test_the_hf_adapter_fails_the_undecodable_row(tiny_llava: Path, tmp_path: Path) -> None:
    """A tiny transformers model decodes the pixels itself: the truncated PNG fails there, its row only."""
    data = _dataset(tmp_path / "data")
    done = _run(f"hf:{tiny_llava}", data, tmp_path / "out", tmp_path / "cache", "--max-new-tokens", "2")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    samples = _samples(tmp_path / "out")
    assert samples["truncated-png"]["status"] == "failed"
    assert samples["truncated-png"]["error"] == "image 1 of 1 could not be decoded: image data is truncated"
    assert all(samples[f"good-{i}"]["status"] == "scored" for i in range(GOOD))
    for case in CASES:
        if not case.decodes_header:
            assert samples[case.name]["error"] == f"unreadable image: {case.reason}", case.name
    assert load_results(tmp_path / "out" / "results.json").tasks["k-seed"].n_failed == len(CASES)


def _encoded(fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 90)).save(buffer, format=fmt, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "decoded", "refused"),
    [
        (_encoded("PNG"), False, None),  # its chunks verify through IEND: whole, not decoded
        (_encoded("JPEG"), False, None),  # ends in its end-of-image marker
        (_encoded("JPEG") + b"camera trailer", True, None),  # a trailer after the marker: decoded to see
        (_encoded("GIF"), True, None),  # no cheap check for other formats
        (_encoded("PNG")[:-30], True, "image data is truncated"),  # cut short: decoded, and refused
    ],
    ids=["png", "jpeg", "jpeg-trailer", "gif", "png-cut"],
)
def test_an_api_image_is_decoded_only_where_its_structure_cannot_show_it_whole(
    data: bytes, decoded: bool, refused: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kobench import images

    calls = []
    real = images.decode_rgb
    monkeypatch.setattr(images, "decode_rgb", lambda raw: calls.append(raw) or real(raw))
    reason = None
    try:
        images.check_decodes(data)
    except ImageError as exc:
        reason = str(exc)
    assert (bool(calls), reason) == (decoded, refused)
