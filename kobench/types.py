"""Frozen data objects passed between stages: rows become Requests, adapters return Responses."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from kobench import images

if TYPE_CHECKING:
    from PIL import Image


@dataclass(frozen=True, eq=False)
class ImageRef:
    """An image as a dataset stores it (encoded bytes or a file path), decoded only when needed.

    A file is read as kobench.images says: its real path a regular file inside `root` (the dataset
    folder; None: no folder to stay in) or the Hub cache's blob store, at most the byte limit read, and
    at most the pixel limit decoded. Every refusal raises ImageError (an OSError and a ValueError) whose
    text is a stable reason for the row's failure."""

    data: bytes | None = None
    path: str | None = None
    root: str | None = None
    _digest: list[str] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.data is None and self.path is None:
            raise ValueError("ImageRef needs bytes or a path")

    def read_bytes(self) -> bytes:
        return images.encoded_bytes(self.data, self.path, self.root)

    def sha256(self) -> str:
        """Hash of the encoded image bytes; the same file from parquet, TSV or a folder hashes alike."""
        if not self._digest:
            data = self.data if self.data is not None else self.read_bytes()  # bytes held hash as they are
            self._digest.append(hashlib.sha256(data).hexdigest())
        return self._digest[0]

    def size(self) -> tuple[int, int]:
        """(width, height) from the header alone: cheap, and it refuses what decoding would refuse for
        its size (ImageError)."""
        return images.image_size(self.read_bytes())

    def load(self) -> Image.Image:
        """Decode to an RGB PIL image. Raises ImageError for unreadable or refused data."""
        return images.decode_rgb(self.read_bytes())


@dataclass(frozen=True)
class TextPart:
    text: str
    type: Literal["text"] = "text"


@dataclass(frozen=True)
class ImagePart:
    image: ImageRef
    type: Literal["image"] = "image"


@dataclass(frozen=True)
class Message:
    """One turn. An assistant turn with `answer_of` set stands for the model's answer to that earlier
    request (a second conversation turn sees the first answer): the runner fills it in with the answer's
    text before any adapter sees the request, so adapters only ever get plain messages."""

    role: Literal["system", "user", "assistant"]
    content: tuple[TextPart | ImagePart, ...]
    answer_of: str | None = None

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.content if isinstance(p, TextPart))

    @property
    def images(self) -> list[ImageRef]:
        return [p.image for p in self.content if isinstance(p, ImagePart)]


@dataclass(frozen=True)
class GenerationSettings:
    """Output-relevant generation settings. Greedy decoding unless temperature > 0."""

    max_new_tokens: int
    temperature: float = 0.0
    stop: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "max_new_tokens": self.max_new_tokens,
            "temperature": self.temperature,
            "stop": list(self.stop),
        }


RequestKind = Literal["choice", "read", "ground", "open", "caption"]


@dataclass(frozen=True)
class Request:
    """What a model adapter sees: messages and settings, never the dataset row.

    `kind`, `options`, `region` and `question` are task-agnostic hints (an OCR baseline picks its page
    mode from `kind` and crops to `region`; a matching baseline looks at `options` or `question`), not a
    way for adapters to know the benchmark. `region` is [x1, y1, x2, y2] in 0-1 image coordinates.
    """

    id: str
    messages: tuple[Message, ...]
    generation: GenerationSettings
    kind: RequestKind = "choice"
    options: tuple[tuple[str, str], ...] = ()
    region: tuple[float, float, float, float] | None = None
    question: str | None = None
    # Log-likelihood mode: score each continuation after the messages instead of generating text (an
    # adapter that accepts "loglikelihood" answers with Response.scores, one per continuation).
    continuations: tuple[str, ...] = ()

    @property
    def depends_on(self) -> tuple[str, ...]:
        """Ids of the earlier requests whose answers this one's messages carry."""
        return tuple(m.answer_of for m in self.messages if m.answer_of is not None)

    @property
    def needs(self) -> frozenset[str]:
        """What an adapter must accept to answer it: "text", "image", "loglikelihood"."""
        found = {"text"}
        if self.images:
            found.add("image")
        if self.continuations:
            found.add("loglikelihood")
        return frozenset(found)

    @property
    def images(self) -> list[ImageRef]:
        return [img for m in self.messages for img in m.images]

    @property
    def prompt_text(self) -> str:
        return "\n".join(m.text for m in self.messages)


# Why an answer ended: "stop" (end of sequence, a stop string, or a baseline's whole answer), "length"
# (cut off at max_new_tokens), "error" (no answer), "filtered" (an API's content filter cut it).
FinishReason = Literal["stop", "length", "error", "filtered"]


@dataclass(frozen=True)
class Response:
    """One adapter answer, tagged with its request's id (adapters answer in any order). `error` set means
    the call failed: the row is counted as failed, not scored. A generation answers with `text`, a
    log-likelihood request with `scores` (one per continuation)."""

    text: str | None
    error: str | None = None
    n_tokens: int = 0  # generated tokens (an API's completion_tokens)
    seconds: float = 0.0  # wall time of the call (a batch's time, for a batched adapter)
    cached: bool = False
    prompt_tokens: int = 0  # input tokens where the adapter knows them (an API's prompt_tokens), images' too
    request_id: str = ""
    scores: tuple[float, ...] | None = None
    finish_reason: FinishReason | None = None  # why generation ended, where the adapter knows
    first_token_seconds: float | None = None  # time to the first token, where the adapter measures it
    # Of the prompt tokens, the image (visual) tokens, where the adapter can tell (hf: the model's image
    # token in its inputs); None where it cannot (an API's usage block does not split them).
    image_tokens: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and (self.text is not None or self.scores is not None)

    def answering(self, request_id: str) -> Response:
        """This response tagged with the request it answers."""
        return replace(self, request_id=request_id)
