"""Candidate proposers: patient context + ECG → candidate drugs and doses to simulate.

A :class:`Proposer` is anything with ``propose(context, ecg) -> list[Candidate]``.
Two ship:

- :class:`FormularyProposer`, offline and rule-based (no model download), with
  the rules listed in its docstring;
- :class:`ChatProposer`, an adapter for any OpenAI-compatible chat endpoint
  (a hosted or local vision-language model) built on the maintained ``openai``
  client: it sends the ECG rendered as a PNG plus a text summary, asks for an
  answer in a strict JSON schema (:data:`ANSWER_SCHEMA`), and rejects unknown
  drugs, doses outside the formulary and malformed answers with a
  :class:`ProposalError`. Time-outs and retries are bounded.

Every candidate, whoever proposes it, passes :func:`make_candidate`: a
formulary drug, and for active drugs a dose between :data:`DOSE_RANGE` times
the trial's dose (the world model has only seen the trial's exposures; the
lower bound keeps concentrations within the trial's range under linear PK).
"""
from __future__ import annotations

import base64
import io
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..actions import FORMULARY, Action
from ..actions.pk import DOSE_TO_MG
from ..data import Recording

DOSE_RANGE = (0.5, 1.0)
"""Allowed dose of an active drug as a fraction of its trial dose (inclusive)."""


AV_NODAL_SLOWING = ("verapamil",)
"""Formulary drugs that slow the sinus rate and AV-nodal conduction (non-dihydropyridine calcium-channel
blockers). Quinidine also blocks L-type calcium channels but is vagolytic and does not slow AV conduction."""


class ProposalError(ValueError):
    """A proposal that cannot be used: unknown drug, dose outside the formulary, malformed answer, no answer."""


@dataclass(frozen=True)
class Candidate:
    """A drug and dose to simulate, with the proposer's reason.

    Build it with :func:`make_candidate`, which checks it against the formulary.
    """

    drug: str
    dose: float
    unit: str
    rationale: str = ""

    def action(self, hours: float) -> Action:
        """The :class:`~ecgwm_core.actions.Action` of this candidate observed ``hours`` after the dose."""
        return Action(self.drug, self.dose, self.unit, hours)

    @property
    def label(self) -> str:
        """``"dofetilide 500 ug"`` (``"placebo"`` for placebo)."""
        return self.drug if self.drug == "placebo" else f"{self.drug} {self.dose:g} {self.unit}"


def make_candidate(drug: str, dose: float, unit: str, rationale: str = "") -> Candidate:
    """A checked :class:`Candidate`.

    Raises
    ------
    ProposalError
        If the drug is not in the formulary, the unit is unknown, or the dose is outside
        :data:`DOSE_RANGE` × the trial dose (placebo: dose 0).
    """
    name = str(drug).strip().lower()
    if name not in FORMULARY:
        raise ProposalError(f"unknown drug {drug!r}; formulary: {', '.join(FORMULARY)}")
    if unit not in DOSE_TO_MG:
        raise ProposalError(f"unknown dose unit {unit!r} for {name}; units: {', '.join(DOSE_TO_MG)}")
    if isinstance(dose, bool) or not isinstance(dose, (int, float)) or not math.isfinite(dose):
        raise ProposalError(f"dose of {name} must be a finite number; got {dose!r}")
    entry = FORMULARY[name]
    if name == "placebo":
        if dose != 0:
            raise ProposalError(f"placebo has dose 0; got {dose:g} {unit}")
    else:
        trial_mg = entry.dose * DOSE_TO_MG[entry.unit]
        low, high = (f * trial_mg for f in DOSE_RANGE)
        dose_mg = dose * DOSE_TO_MG[unit]
        if not low - 1e-9 <= dose_mg <= high + 1e-9:
            raise ProposalError(
                f"dose {dose:g} {unit} of {name} is outside the formulary: "
                f"{low / DOSE_TO_MG[entry.unit]:g}-{entry.dose:g} {entry.unit}"
            )
    return Candidate(name, float(dose), unit, rationale)


@dataclass(frozen=True)
class PatientContext:
    """What a proposer knows about the patient besides the ECG.

    Attributes
    ----------
    subject : identifier (e.g. the trial's ``RANDID``).
    qtcf_ms : pre-dose QTcF, ms.
    hr_bpm, pr_ms, qrs_ms : pre-dose heart rate (bpm), PR and QRS (ms), if known.
    age_years, sex : demographics, if known (sex ``"M"`` or ``"F"``).
    notes : free text passed to chat proposers.
    """

    subject: str
    qtcf_ms: float
    hr_bpm: float | None = None
    pr_ms: float | None = None
    qrs_ms: float | None = None
    age_years: float | None = None
    sex: str | None = None
    notes: str = ""

    def summary(self) -> str:
        """One-paragraph text summary of the context."""
        parts = [f"Subject {self.subject}"]
        if self.age_years is not None or self.sex:
            parts.append(" ".join(p for p in (f"{self.age_years:g} y" if self.age_years is not None else "",
                                              self.sex or "") if p))
        measures = {"QTcF": (self.qtcf_ms, "ms"), "HR": (self.hr_bpm, "bpm"), "PR": (self.pr_ms, "ms"),
                    "QRS": (self.qrs_ms, "ms")}
        parts.append("pre-dose " + ", ".join(f"{k} {v:.0f} {u}" for k, (v, u) in measures.items() if v is not None))
        return "; ".join(parts) + (f". {self.notes}" if self.notes else ".")


@runtime_checkable
class Proposer(Protocol):
    """Anything that proposes candidates for a patient."""

    def propose(self, context: PatientContext, ecg: Recording | None = None) -> list[Candidate]:
        """Candidate drugs and doses for this patient (pre-dose context and ECG)."""
        ...


@dataclass(frozen=True)
class FormularyProposer:
    """Offline, rule-based proposer over :data:`~ecgwm_core.actions.FORMULARY`.

    Rules, applied in order to the pre-dose context (the ECG is not read):

    1. Placebo is always proposed: it is the reference every drug is compared with.
    2. Every active drug is proposed at its trial dose...
    3. ...or at the lowest allowed dose (``DOSE_RANGE[0]`` × trial dose) when the
       baseline QTcF exceeds ``qtcf_caution_ms`` (450 ms, ICH E14's lowest
       categorical threshold): every formulary drug blocks hERG.
    4. Rate-slowing calcium-channel blockers (:data:`AV_NODAL_SLOWING`: verapamil) are
       left out when the baseline HR is below 50 bpm or PR above 200 ms: they slow the
       sinus rate and AV conduction further.
    5. Drugs blocking the peak sodium current (quinidine) are left out when the
       baseline QRS exceeds 120 ms: they widen QRS further.
    """

    qtcf_caution_ms: float = 450.0

    def propose(self, context: PatientContext, ecg: Recording | None = None) -> list[Candidate]:
        """Candidates for ``context`` by the rules above (``ecg`` is accepted for the protocol and ignored)."""
        out = [make_candidate("placebo", 0.0, "mg", "reference: no drug")]
        slow_conduction = (context.hr_bpm is not None and context.hr_bpm < 50) or (
            context.pr_ms is not None and context.pr_ms > 200)
        wide_qrs = context.qrs_ms is not None and context.qrs_ms > 120
        for drug in FORMULARY.values():
            if drug.name == "placebo":
                continue
            if slow_conduction and drug.name in AV_NODAL_SLOWING:
                continue
            if wide_qrs and "peak Na" in drug.blocks:
                continue
            if context.qtcf_ms > self.qtcf_caution_ms:
                reason = f"baseline QTcF {context.qtcf_ms:.0f} ms > {self.qtcf_caution_ms:g} ms: lowest dose"
                out.append(make_candidate(drug.name, DOSE_RANGE[0] * drug.dose, drug.unit, reason))
            else:
                out.append(make_candidate(drug.name, drug.dose, drug.unit, "trial dose"))
        return out


ANSWER_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "candidates": {
            "type": "array",
            "minItems": 1,
            "maxItems": 8,
            "items": {
                "type": "object",
                "properties": {
                    "drug": {"type": "string", "enum": list(FORMULARY)},
                    "dose": {"type": "number"},
                    "unit": {"type": "string", "enum": list(DOSE_TO_MG)},
                    "rationale": {"type": "string"},
                },
                "required": ["drug", "dose", "unit", "rationale"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["candidates"],
    "additionalProperties": False,
}
"""JSON schema the chat endpoint must answer in (sent as a strict ``response_format``)."""
_ITEM_KEYS = set(ANSWER_SCHEMA["properties"]["candidates"]["items"]["required"])


def parse_answer(text: str | None) -> list[Candidate]:
    """Parse and check a chat answer against :data:`ANSWER_SCHEMA` and the formulary.

    Raises
    ------
    ProposalError
        If the text is not JSON, does not follow the schema, names an unknown drug or a dose outside
        the formulary.
    """
    try:
        answer = json.loads(text or "")
    except json.JSONDecodeError as err:
        raise ProposalError(f"answer is not JSON ({err.msg} at position {err.pos}): {str(text)[:80]!r}") from None
    if not isinstance(answer, dict) or set(answer) != {"candidates"} or not isinstance(answer["candidates"], list):
        raise ProposalError(f"answer must be an object with exactly one key 'candidates' (a list); got {answer!r:.80}")
    items = answer["candidates"]
    if not 1 <= len(items) <= ANSWER_SCHEMA["properties"]["candidates"]["maxItems"]:
        raise ProposalError(f"answer must hold 1-8 candidates; got {len(items)}")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != _ITEM_KEYS:
            raise ProposalError(f"candidate {i} must have exactly the keys {sorted(_ITEM_KEYS)}; got {item!r:.80}")
        if not isinstance(item["drug"], str) or not isinstance(item["unit"], str):
            raise ProposalError(f"candidate {i}: drug and unit must be strings; got {item!r:.80}")
        out.append(make_candidate(item["drug"], item["dose"], item["unit"], str(item["rationale"])))
    return out


def render_png(ecg: Recording, dpi: int = 80) -> bytes:
    """The first 10 s of a 12-lead ECG on standard paper, as PNG bytes (see ``plotting.plot_12lead``)."""
    import matplotlib.pyplot as plt

    from ..plotting import plot_12lead

    figure = plot_12lead(ecg.signal, ecg.fs, ecg.leads, title=ecg.name)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    plt.close(figure)
    return buffer.getvalue()


ENV = {"base_url": "ECGWM_LLM_BASE_URL", "model": "ECGWM_LLM_MODEL", "api_key": "ECGWM_LLM_API_KEY"}
"""Environment variables :meth:`EndpointConfig.from_env` reads."""


@dataclass(frozen=True)
class EndpointConfig:
    """Where and how to reach an OpenAI-compatible chat endpoint.

    Attributes
    ----------
    base_url : e.g. ``"http://localhost:8000/v1"``.
    model : model name the endpoint serves.
    api_key : key sent as a bearer token (any non-empty string for endpoints without keys).
    timeout_s : per-request time-out, seconds, in (0, 300].
    max_retries : retries after a time-out, connection error or 5xx/429 answer, 0-5.
    """

    base_url: str
    model: str
    api_key: str
    timeout_s: float = 30.0
    max_retries: int = 2

    def __post_init__(self) -> None:
        missing = [k for k in ("base_url", "model", "api_key") if not getattr(self, k)]
        if missing:
            raise ValueError(f"endpoint config lacks {', '.join(missing)}: set them or {[ENV[k] for k in missing]}")
        if not 0 < self.timeout_s <= 300:
            raise ValueError(f"timeout_s must be in (0, 300] seconds; got {self.timeout_s}")
        if not (isinstance(self.max_retries, int) and 0 <= self.max_retries <= 5):
            raise ValueError(f"max_retries must be an integer 0-5; got {self.max_retries}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> EndpointConfig:
        """Read :data:`ENV` from the environment; keyword arguments override it."""
        environ = os.environ if environ is None else environ
        values = {k: environ.get(v, "") for k, v in ENV.items()}
        return cls(**{**values, **overrides})


SYSTEM_PROMPT = (
    "You propose candidate drugs to simulate with an ECG world model for research decision support. "
    "Choose only from this formulary (name: allowed dose range): {formulary}. Placebo has dose 0. "
    "Answer with JSON only, following the given schema."
)


class ChatProposer:
    """Proposer backed by an OpenAI-compatible chat endpoint (a vision-language model).

    Parameters
    ----------
    config : endpoint, model, key, time-out and retries.
    """

    def __init__(self, config: EndpointConfig) -> None:
        from openai import OpenAI

        self.config = config
        self._client = OpenAI(base_url=config.base_url, api_key=config.api_key, timeout=config.timeout_s,
                              max_retries=config.max_retries)

    @staticmethod
    def _formulary() -> str:
        return "; ".join(
            f"{d.name}: {DOSE_RANGE[0] * d.dose:g}-{d.dose:g} {d.unit}" for d in FORMULARY.values()
            if d.name != "placebo"
        ) + "; placebo: 0 mg"

    def messages(self, context: PatientContext, ecg: Recording | None = None) -> list[dict]:
        """The chat messages sent: a system prompt with the formulary, the context summary and the ECG PNG."""
        content: list[dict] = [{"type": "text", "text": f"{context.summary()} Propose candidates."}]
        if ecg is not None:
            png = base64.b64encode(render_png(ecg)).decode("ascii")
            content.append({"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}})
        return [
            {"role": "system", "content": SYSTEM_PROMPT.format(formulary=self._formulary())},
            {"role": "user", "content": content},
        ]

    def propose(self, context: PatientContext, ecg: Recording | None = None) -> list[Candidate]:
        """Ask the endpoint and return its checked candidates.

        Raises
        ------
        ProposalError
            On a time-out or connection failure after the bounded retries, an error status, or an answer
            that :func:`parse_answer` rejects.
        """
        import openai

        where = f"chat endpoint {self.config.base_url} (model {self.config.model})"
        try:
            reply = self._client.chat.completions.create(
                model=self.config.model,
                messages=self.messages(context, ecg),
                response_format={"type": "json_schema",
                                 "json_schema": {"name": "candidates", "strict": True, "schema": ANSWER_SCHEMA}},
                temperature=0,
            )
        except openai.APITimeoutError:
            raise ProposalError(f"{where} did not answer within {self.config.timeout_s:g} s "
                                f"({self.config.max_retries} retries)") from None
        except openai.APIConnectionError as err:
            raise ProposalError(f"cannot reach {where}: {err}") from None
        except openai.APIStatusError as err:
            raise ProposalError(f"{where} answered HTTP {err.status_code}: {err.message}") from None
        if not reply.choices:
            raise ProposalError(f"{where} answered without choices")
        return parse_answer(reply.choices[0].message.content)
