"""Claude for a work's vision and llm roles, through the shared ``AnthropicClient``: the
answer is a forced tool call, the reference's sampled frames go as image blocks."""

from __future__ import annotations

from reelforge.ai.anthropic_client import AnthropicClient
from reelforge.works.providers.base import Call
from reelforge.works.providers.prompts import Ask, FrameVision, JsonWriter, M, Question

# A scenario of many scenes, each with three prompts, outgrows the client's default 4096.
MAX_TOKENS = 8192


def vision(call: Call) -> FrameVision:
    return FrameVision(_ask(call), label=f"Claude ({call.model})")


def writer(call: Call) -> JsonWriter:
    return JsonWriter(_ask(call))


def _ask(call: Call) -> Ask:
    client = AnthropicClient(call.api_key or "", model=call.model, base_url=call.base_url,
                             max_tokens=MAX_TOKENS)

    def ask(question: Question, schema: type[M]) -> M:
        return client.ask_json(question.system, question.user, schema, question.images)

    return ask
