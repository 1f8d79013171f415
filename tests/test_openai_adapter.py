"""The `openai` adapter against a real HTTP server on 127.0.0.1: what it sends (images in order, generation
settings), and that its responses stay aligned with the requests whatever order the server answers in."""

from __future__ import annotations

import base64
import io
import random

import pytest
from PIL import Image

from kobench.models.base import Model, in_request_order
from kobench.models.openai_api import OpenAIModel, openai_fingerprint
from kobench.testing.fake_openai import FakeOpenAIServer, Reply
from kobench.types import GenerationSettings, ImagePart, ImageRef, Message, Request, TextPart

GREEDY = GenerationSettings(max_new_tokens=32)


def png(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def ask(text: str, *, id: str = "q", generation: GenerationSettings = GREEDY) -> Request:
    return Request(id=id, messages=(Message("user", (TextPart(text),)),), generation=generation)


def last_text(body: dict) -> str:
    content = body["messages"][-1]["content"]
    return content if isinstance(content, str) else next(p["text"] for p in content if p["type"] == "text")


@pytest.fixture(autouse=True)
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def test_identity_and_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-adapter")
    model = OpenAIModel("Qwen/Qwen2-VL-7B-Instruct@http://localhost:8000/v1/", concurrency=2)
    assert isinstance(model, Model)
    assert (model.name, model.adapter) == ("Qwen/Qwen2-VL-7B-Instruct", "openai")
    assert model.fingerprint == "openai:Qwen/Qwen2-VL-7B-Instruct@http://localhost:8000/v1"
    assert model.fingerprint == openai_fingerprint("Qwen/Qwen2-VL-7B-Instruct@http://localhost:8000/v1")
    assert model.settings == {"model": "Qwen/Qwen2-VL-7B-Instruct", "base_url": "http://localhost:8000/v1"}
    assert openai_fingerprint("gpt-4o") == "openai:gpt-4o@https://api.openai.com/v1"
    assert "sk-secret" not in repr(model) + repr(model.settings) + repr(vars(model))
    model.close()


def test_images_and_settings_are_sent() -> None:
    red, blue = png("red"), png("blue")
    request = Request(
        id="r1",
        messages=(
            Message("system", (TextPart("당신은 도움이 되는 조수입니다."),)),
            Message(
                "user",
                (
                    ImagePart(ImageRef(data=red)),
                    TextPart("두 이미지를 비교하세요."),
                    ImagePart(ImageRef(data=blue)),
                ),
            ),
        ),
        generation=GenerationSettings(max_new_tokens=7, temperature=0.5, stop=("\n\n", "###")),
    )
    with FakeOpenAIServer(lambda body, i: Reply(text="빨강, 파랑", usage=(321, 4))) as server:
        model = OpenAIModel(f"vlm@{server.base_url}")
        [response] = in_request_order(model, [request])
        body = server.requests[0][1]
    assert response.ok and response.text == "빨강, 파랑"
    assert (response.n_tokens, response.prompt_tokens) == (4, 321)
    assert (body["model"], body["max_tokens"], body["temperature"], body["stop"]) == (
        "vlm",
        7,
        0.5,
        ["\n\n", "###"],
    )
    assert body["messages"][0] == {"role": "system", "content": "당신은 도움이 되는 조수입니다."}
    parts = body["messages"][1]["content"]
    assert [p["type"] for p in parts] == ["image_url", "text", "image_url"]
    assert parts[1]["text"] == "두 이미지를 비교하세요."
    sent = [
        base64.b64decode(p["image_url"]["url"].removeprefix("data:image/png;base64,")) for p in parts[::2]
    ]
    assert sent == [red, blue]


def test_responses_align_when_answers_arrive_out_of_order() -> None:
    rng = random.Random(0)
    delays = [rng.random() * 0.15 for _ in range(24)]

    def script(body: dict, index: int) -> Reply:
        n = int(last_text(body))
        return Reply(text=f"answer {n}", delay=delays[n], usage=(n, n + 1))

    requests = [ask(str(n), id=f"q{n}") for n in range(24)]
    with FakeOpenAIServer(script) as server:
        responses = in_request_order(OpenAIModel(f"m@{server.base_url}", concurrency=8), requests)
        assert server.max_in_flight > 1
    assert [r.text for r in responses] == [f"answer {n}" for n in range(24)]
    assert [(r.prompt_tokens, r.n_tokens) for r in responses] == [(n, n + 1) for n in range(24)]
    # the first 8 were in flight together and finish in delay order, not request order
    assert sorted(range(8), key=delays.__getitem__) != list(range(8))


def test_a_failed_request_does_not_fail_the_batch() -> None:
    def script(body: dict, index: int) -> Reply:
        if last_text(body) == "too long":
            return Reply(status=400, text="This model's maximum context length is 4096 tokens")
        return Reply(text="B")

    requests = [ask("a", id="a"), ask("too long", id="b"), ask("c", id="c")]
    with FakeOpenAIServer(script) as server:
        responses = in_request_order(OpenAIModel(f"m@{server.base_url}", max_retries=0), requests)
    assert [r.text for r in responses] == ["B", None, "B"]
    assert responses[1].error is not None and not responses[1].ok
    assert responses[1].error.startswith("HTTP 400") and "maximum context length" in responses[1].error
    assert responses[0].error is None and responses[2].error is None


def test_an_unreadable_image_fails_only_its_row() -> None:
    broken = Request(
        id="b",
        messages=(Message("user", (ImagePart(ImageRef(data=b"garbage")), TextPart("?"))),),
        generation=GREEDY,
    )
    with FakeOpenAIServer() as server:
        responses = in_request_order(
            OpenAIModel(f"m@{server.base_url}"), [ask("x", id="x"), broken, ask("y", id="y")]
        )
        assert server.calls == 2
    assert [r.text for r in responses] == ["ok", None, "ok"]
    assert "not a readable image" in (responses[1].error or "")


def test_images_are_encoded_as_their_requests_are_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    # Not every request's base64 before the first call: a document benchmark's would all be held at once.
    import kobench.llm.client as client

    encoded: list[int] = []
    encode = client.image_data_url
    monkeypatch.setattr(client, "image_data_url", lambda ref: encoded.append(1) or encode(ref))
    seen_at_arrival: list[int] = []

    def script(body: dict, index: int) -> Reply:
        seen_at_arrival.append(len(encoded))
        return Reply(text="ok", delay=0.02)

    requests = [
        Request(
            id=f"q{n}",
            messages=(Message("user", (ImagePart(ImageRef(data=png("red"))), TextPart(str(n)))),),
            generation=GREEDY,
        )
        for n in range(40)
    ]
    with FakeOpenAIServer(script) as server:
        responses = in_request_order(OpenAIModel(f"m@{server.base_url}", concurrency=4), requests)
    assert all(r.text == "ok" for r in responses) and len(encoded) == 40
    # when the first request arrived, only the requests the four workers had taken up were encoded
    assert seen_at_arrival[0] <= 4
    # and every request was encoded before it was sent
    assert all(seen >= k + 1 for k, seen in enumerate(seen_at_arrival))


def test_empty_batch() -> None:
    with FakeOpenAIServer() as server:
        assert in_request_order(OpenAIModel(f"m@{server.base_url}"), []) == []
        assert server.calls == 0
