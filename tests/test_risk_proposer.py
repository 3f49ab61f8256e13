"""Candidate proposers: formulary rules, answer checking, and the chat adapter against a local fake server only."""
import base64
import json
import time

import numpy as np
import pytest
from werkzeug import Response

from ecgwm_core.data import STANDARD_12, Recording
from ecgwm_core.risk import (
    ChatProposer, EndpointConfig, FormularyProposer, PatientContext, ProposalError, Proposer, make_candidate,
    parse_answer,
)

CONTEXT = PatientContext("1001", qtcf_ms=402.0, hr_bpm=61.0, pr_ms=160.0, qrs_ms=94.0, age_years=27, sex="M")


def completion(content: str) -> dict:
    """An OpenAI chat-completion body as an OpenAI-compatible server sends it."""
    return {"id": "fake-1", "object": "chat.completion", "created": 0, "model": "fake-vlm",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]}


def answer(*items: dict) -> str:
    return json.dumps({"candidates": list(items)})


def item(drug: str, dose: float, unit: str) -> dict:
    return {"drug": drug, "dose": dose, "unit": unit, "rationale": "test"}


@pytest.fixture
def endpoint(httpserver):
    assert httpserver.host == "localhost" or httpserver.host.startswith("127.")
    return httpserver, EndpointConfig(base_url=httpserver.url_for("/v1"), model="fake-vlm", api_key="test-key",
                                      timeout_s=5.0, max_retries=0)


def synthetic_ecg() -> Recording:
    """A synthetic 10-s 12-lead signal (sine bursts), only to exercise the PNG rendering."""
    t = np.arange(5000) / 500.0
    return Recording(np.tile(np.sin(2 * np.pi * 1.2 * t) ** 15, (12, 1)), 500.0, STANDARD_12, "synthetic")


# --- candidates and the formulary ---------------------------------------------------------------------------------
def test_make_candidate_checks_the_formulary():
    assert make_candidate("Dofetilide", 0.5, "mg").label == "dofetilide 0.5 mg"  # = 500 ug, the trial dose
    assert make_candidate("dofetilide", 250, "ug").dose == 250.0                    # half the trial dose
    assert make_candidate("placebo", 0, "mg").label == "placebo"
    with pytest.raises(ProposalError, match="unknown drug 'aspirin'"):
        make_candidate("aspirin", 100, "mg")
    with pytest.raises(ProposalError, match="outside the formulary: 250-500 ug"):
        make_candidate("dofetilide", 600, "ug")
    with pytest.raises(ProposalError, match="outside the formulary"):
        make_candidate("quinidine", 100, "mg")
    with pytest.raises(ProposalError, match="unknown dose unit"):
        make_candidate("verapamil", 120, "g")
    with pytest.raises(ProposalError, match="placebo has dose 0"):
        make_candidate("placebo", 5, "mg")
    assert make_candidate("ranolazine", 1500, "mg").action(2.5).hours == 2.5


def test_formulary_proposer_rules():
    proposer = FormularyProposer()
    assert isinstance(proposer, Proposer)
    labels = [c.label for c in proposer.propose(CONTEXT)]
    assert labels == ["placebo", "dofetilide 500 ug", "quinidine 400 mg", "ranolazine 1500 mg", "verapamil 120 mg"]
    long_qt = PatientContext("x", qtcf_ms=455.0)
    assert [c.dose for c in proposer.propose(long_qt)] == [0.0, 250.0, 200.0, 750.0, 60.0]
    slow = PatientContext("x", qtcf_ms=400.0, hr_bpm=48.0)
    assert [c.drug for c in proposer.propose(slow)] == ["placebo", "dofetilide", "quinidine", "ranolazine"]
    av_block = PatientContext("x", qtcf_ms=400.0, pr_ms=210.0)
    assert "verapamil" not in [c.drug for c in proposer.propose(av_block)]
    wide = PatientContext("x", qtcf_ms=400.0, qrs_ms=130.0)
    assert [c.drug for c in proposer.propose(wide)] == ["placebo", "dofetilide", "ranolazine", "verapamil"]


# --- answer parsing -------------------------------------------------------------------------------------------------
def test_parse_valid_answer():
    out = parse_answer(answer(item("dofetilide", 500, "ug"), item("placebo", 0, "mg")))
    assert [c.label for c in out] == ["dofetilide 500 ug", "placebo"]


@pytest.mark.parametrize("text, message", [
    ("not json at all", "not JSON"),
    ("", "not JSON"),
    ('{"candidates": []}', "1-8 candidates"),
    ('["dofetilide"]', "exactly one key"),
    (json.dumps({"candidates": [item("dofetilide", 500, "ug")], "extra": 1}), "exactly one key"),
    (json.dumps({"candidates": [{"drug": "dofetilide", "dose": 500}]}), "exactly the keys"),
    (answer(item("dofetilide", "500", "ug")), "finite number"),
    (answer(item("terfenadine", 60, "mg")), "unknown drug 'terfenadine'"),
    (answer(item("verapamil", 480, "mg")), "outside the formulary"),
])
def test_parse_rejects(text, message):
    with pytest.raises(ProposalError, match=message):
        parse_answer(text)


# --- the chat adapter against a local fake OpenAI-compatible server ------------------------------------------------
def test_chat_proposer_sends_png_and_schema_and_parses(endpoint):
    server, config = endpoint
    server.expect_request("/v1/chat/completions", method="POST").respond_with_json(
        completion(answer(item("quinidine", 400, "mg"), item("ranolazine", 1000, "mg"))))
    out = ChatProposer(config).propose(CONTEXT, synthetic_ecg())
    assert [c.label for c in out] == ["quinidine 400 mg", "ranolazine 1000 mg"]
    request, _ = server.log[0]
    assert request.headers["Authorization"] == "Bearer test-key"
    body = request.get_json()
    assert body["model"] == "fake-vlm"
    assert body["response_format"]["json_schema"]["strict"] is True
    user = body["messages"][1]["content"]
    assert "QTcF 402 ms" in user[0]["text"]
    png = base64.b64decode(user[1]["image_url"]["url"].removeprefix("data:image/png;base64,"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("content, message", [
    ("Sure! Here are some drugs: dofetilide", "not JSON"),
    (answer(item("amiodarone", 200, "mg")), "unknown drug 'amiodarone'"),
    (answer(item("dofetilide", 1000, "ug")), "outside the formulary"),
])
def test_chat_proposer_rejects_bad_answers(endpoint, content, message):
    server, config = endpoint
    server.expect_request("/v1/chat/completions").respond_with_json(completion(content))
    with pytest.raises(ProposalError, match=message):
        ChatProposer(config).propose(CONTEXT)


def test_chat_proposer_error_status(endpoint):
    server, config = endpoint
    server.expect_request("/v1/chat/completions").respond_with_json({"error": {"message": "boom"}}, status=500)
    with pytest.raises(ProposalError, match="HTTP 500"):
        ChatProposer(config).propose(CONTEXT)


def test_chat_proposer_time_out_with_bounded_retries(endpoint):
    server, config = endpoint

    def slow(request):
        time.sleep(0.6)
        return Response(json.dumps(completion(answer(item("placebo", 0, "mg")))), content_type="application/json")

    server.expect_request("/v1/chat/completions").respond_with_handler(slow)
    config = EndpointConfig(config.base_url, config.model, config.api_key, timeout_s=0.2, max_retries=1)
    start = time.perf_counter()
    with pytest.raises(ProposalError, match="did not answer within 0.2 s"):
        ChatProposer(config).propose(CONTEXT)
    assert time.perf_counter() - start < 5.0
    time.sleep(0.7)  # let the fake server finish the last slow answer
    assert len(server.log) == 2  # the first try and one retry, no more


def test_endpoint_config_from_env_and_bounds():
    env = {"ECGWM_LLM_BASE_URL": "http://127.0.0.1:9/v1", "ECGWM_LLM_MODEL": "m", "ECGWM_LLM_API_KEY": "k"}
    assert EndpointConfig.from_env(env).model == "m"
    assert EndpointConfig.from_env(env, model="other").model == "other"
    with pytest.raises(ValueError, match="ECGWM_LLM_MODEL"):
        EndpointConfig.from_env({**env, "ECGWM_LLM_MODEL": ""})
    with pytest.raises(ValueError, match="timeout_s"):
        EndpointConfig.from_env(env, timeout_s=0)
    with pytest.raises(ValueError, match="max_retries"):
        EndpointConfig.from_env(env, max_retries=50)
