"""Pure rules that say which kind of audio model a Hugging Face repository holds.

A drop-in judging layer for Unsloth Studio's ``detect_audio_type``: it answers one of Studio's six
audio types, or None, from texts and a parsed ``config.json`` that the caller has already read.
No I/O and nothing heavier than :mod:`json` is imported, so a cache hit never pays for it.

The types, tried in this order; the first that matches decides:

=============  =====================================================  ==========================================
type           signal                                                 why
=============  =====================================================  ==========================================
``csm``        ``config.json`` says Sesame CSM (``model_type`` csm    CSM's tokenizer carries ``<|AUDIO|>`` and
               or ``CsmForConditionalGeneration``); without a         ``<|audio_eos|>``, but so do Qwen2-Audio
               config, ``<|AUDIO|>`` + ``<|audio_eos|>`` and no       and Qwen2.5-Omni (audio *input* models).
               ``<|audio_bos|>``                                      Studio takes the two tokens alone and
                                                                      calls the Qwen models CSM.
``whisper``    ``<|startoftranscript|>`` in any tokenizer file        Whisper's decoder prompt. Older
               (``added_tokens_decoder``, ``added_tokens.json``,      checkpoints list it only in
               ``special_tokens_map.json``), or ``config.json``       ``added_tokens.json``; Studio reads
               ``model_type`` whisper                                 ``added_tokens_decoder`` only.
``bicodec``    a token starting ``<|bicodec_``                        Spark-TTS's BiCodec codes (``LLM/`` path).
``dac``        ``<|audio_start|>``, ``<|audio_end|>``,                OuteTTS interleaves text and DAC codes.
               ``<|text_start|>`` and ``<|text_end|>``
``snac``       more than 10,000 tokens starting ``<custom_token_``    Orpheus's SNAC codebook (28k codes).
``audio_vlm``  the config has an audio encoder (``audio_config``,     A model that takes audio and generates
               also under ``thinker_config``), or a known audio-in    text. Gemma 4 declares
               ``model_type``; or, when the config shows no audio     ``audio_token: <|audio|>`` at the top level
               encoder or is absent, the tokenizer has                of ``tokenizer_config.json`` (no
               ``<audio_soft_token>`` / ``<|audio|>`` (also as a      ``added_tokens_decoder``); Qwen3-ASR has
               top-level ``*_token`` value) or Qwen's audio-input     ``<|audio_start|>``/``<|audio_end|>``
               markers (``<|AUDIO|>`` with ``<|audio_bos|>``/         without DAC's text markers; Studio answers
               ``<|audio_eos|>``, or ``<|audio_start|>`` +            None for both.
               ``<|audio_end|>``) and no config vetoes it
=============  =====================================================  ==========================================

A config that is present, readable and shows no audio encoder vetoes the *token-only* audio_vlm
signals (a text-only Gemma 4 31B still ships ``audio_token`` in its tokenizer). It never vetoes
the codec types above, whose configs are plain LLM configs (Orpheus is a Llama).

Hostile input is expected: malformed JSON, wrong types, huge texts. Nothing here raises; an
unusable input is skipped and named in the evidence. Bump :data:`RULES_VERSION` whenever a change
could turn a None into a type, so stored negatives are re-judged.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping

RULES_VERSION = "audio-1"

#: Studio's six audio types, in Studio's order of precedence.
AUDIO_TYPES = ("snac", "csm", "bicodec", "dac", "whisper", "audio_vlm")

#: What the fetch layer reads, in this order, as raw text (``config.json`` is parsed and passed as
#: ``config``; the others go in ``tokenizer_texts`` under these exact names). ``LLM/`` is where
#: Spark-TTS keeps its tokenizer. A missing file (404) is simply left out.
AUDIO_FILES = (
    "config.json",
    "tokenizer_config.json",
    "LLM/tokenizer_config.json",
    "added_tokens.json",
    "special_tokens_map.json",
)
TOKENIZER_FILES = AUDIO_FILES[1:]

#: Texts longer than this are not parsed (the largest real one, Orpheus's, is about 5 MB).
MAX_TEXT_CHARS = 64 * 1024 * 1024
#: At most this many token strings are taken from one file.
MAX_TOKENS_PER_FILE = 1_000_000

SNAC_PREFIX = "<custom_token_"
SNAC_MIN_CODES = 10_000  # "more than", as Studio counts
BICODEC_PREFIX = "<|bicodec_"
WHISPER_TOKEN = "<|startoftranscript|>"
DAC_TOKENS = ("<|audio_start|>", "<|audio_end|>", "<|text_start|>", "<|text_end|>")
GEMMA_AUDIO_TOKENS = ("<audio_soft_token>", "<|audio|>")  # Gemma 3n, Gemma 4
QWEN_AUDIO = "<|AUDIO|>"
QWEN_AUDIO_BOS = "<|audio_bos|>"
QWEN_AUDIO_EOS = "<|audio_eos|>"
QWEN3_AUDIO_SPAN = ("<|audio_start|>", "<|audio_end|>")

#: Every substring some rule above needs. A tokenizer text holding none of them cannot change the
#: answer, so it need not be parsed. The escaped forms keep a file whose writer escaped ``<`` or
#: ``|`` (``\\u003c``) from being skipped: a false "maybe" only costs the parse.
AUDIO_MARKERS = (
    QWEN_AUDIO,
    QWEN_AUDIO_BOS,
    QWEN_AUDIO_EOS,
    WHISPER_TOKEN,
    BICODEC_PREFIX,
    "<|audio_start|>",
    SNAC_PREFIX,
    "<audio_soft_token>",
    "<|audio|>",
    "\\u003c",
    "\\u003C",
    "\\u007c",
    "\\u007C",
)

CSM_MODEL_TYPES = frozenset({"csm"})
CSM_ARCHITECTURES = frozenset({"CsmForConditionalGeneration"})
WHISPER_MODEL_TYPES = frozenset({"whisper"})
WHISPER_ARCH_PREFIX = "Whisper"
#: Audio-in, text-out model types whose config may not carry a plain ``audio_config`` key.
AUDIO_LM_MODEL_TYPES = frozenset({
    "qwen2_audio", "qwen2_5_omni", "qwen2_5_omni_thinker", "qwen3_omni_moe", "qwen3_asr",
    "gemma3n", "ultravox", "voxtral", "granite_speech", "kimi_audio", "phi4mm",
})
#: Config keys that hold an audio encoder's sub-config (Qwen2-Audio, Gemma 3n/4, Ultravox, Voxtral).
#: A null value (Gemma 4 31B, which has no audio tower) is not an encoder.
AUDIO_ENCODER_KEYS = ("audio_config",)
#: Sub-configs that may hold the audio encoder (Qwen2.5-Omni, Qwen3-Omni and Qwen3-ASR put it
#: under the thinker).
NESTED_CONFIGS = ("thinker_config",)


def mentions_audio(text: object) -> bool:
    """Whether ``text`` (a tokenizer file's raw text) could change the answer, so is worth parsing.

    Conservative: a false True only costs the parse that would have happened anyway. Anything that
    is not a string is False (there is nothing to parse).
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    if not isinstance(text, str):
        return False
    return any(marker in text for marker in AUDIO_MARKERS)


def looks_complete(text: object) -> bool:
    """Whether a JSON object's raw text looks whole (ends with ``}``), for the caller's "definitive"
    flag when it skipped the parse: a half-written file must stay "unknown", as it would have if
    ``json.loads`` had raised on it. This mirrors Studio's check."""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    return isinstance(text, str) and text.rstrip().endswith("}")


def is_audio_input_type(audio_type: object) -> bool:
    """True if an audio type accepts audio input: ``whisper`` (ASR) and ``audio_vlm``. Studio's
    semantics; the codec types (snac, csm, bicodec, dac) are text-to-speech outputs."""
    return audio_type in ("whisper", "audio_vlm")


def is_tts_type(audio_type: object) -> bool:
    """Studio's ``is_audio``: any audio type except ``audio_vlm`` (whisper included)."""
    return audio_type in AUDIO_TYPES and audio_type != "audio_vlm"


@dataclasses.dataclass(frozen=True)
class AudioJudgement:
    """The full answer: the type, why, and which inputs were usable.

    ``read`` lists the inputs that were actually used (parsed, or skipped by :func:`mentions_audio`
    while looking whole); ``unreadable`` those that were given but could not be used. A None with
    nothing in ``read`` is "could not tell", not "not audio".
    """

    audio_type: str | None
    evidence: str
    read: tuple[str, ...] = ()
    unreadable: tuple[str, ...] = ()

    @property
    def definitive(self) -> bool:
        return self.audio_type is not None or bool(self.read)


# --- reading the inputs, defensively -------------------------------------------------------------


def _as_text(value: object) -> str | None:
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    return value[1:] if value.startswith("\ufeff") else value


def _token_content(value: object) -> str | None:
    """A token as tokenizer files write it: a string, or an AddedToken dict with ``content``."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        content = value.get("content")
        if isinstance(content, str):
            return content
    return None


def _tokens_from_list(value: object) -> Iterable[str]:
    if isinstance(value, list):
        for item in value:
            token = _token_content(item)
            if token is not None:
                yield token
    elif isinstance(value, Mapping):  # extra_special_tokens may be a {name: token} mapping
        for item in value.values():
            token = _token_content(item)
            if token is not None:
                yield token


def _tokens_from_parsed(name: str, data: object) -> Iterable[str]:
    """Every token string a tokenizer file declares, wherever that kind of file declares them."""
    if not isinstance(data, Mapping):
        return
    if name == "added_tokens.json":  # {"<token>": id, ...}
        for key in data:
            if isinstance(key, str):
                yield key
        return
    decoder = data.get("added_tokens_decoder")
    if isinstance(decoder, Mapping):
        for entry in decoder.values():
            token = _token_content(entry)
            if token is not None:
                yield token
    added = data.get("added_tokens")  # tokenizer.json's list form, if a caller passes one
    if isinstance(added, list):
        yield from _tokens_from_list(added)
    for key, value in data.items():
        if not isinstance(key, str):
            continue
        if key.endswith("_token"):  # bos_token, audio_token (Gemma 4), ...
            token = _token_content(value)
            if token is not None:
                yield token
        elif key in ("additional_special_tokens", "extra_special_tokens"):
            yield from _tokens_from_list(value)
        elif key == "model_specific_special_tokens" and isinstance(value, Mapping):
            for item in value.values():
                token = _token_content(item)
                if token is not None:
                    yield token


@dataclasses.dataclass
class _Tokens:
    where: dict[str, str] = dataclasses.field(default_factory=dict)  # token -> first file naming it
    snac_codes: int = 0
    bicodec: str | None = None

    def add(self, token: str, name: str) -> None:
        if token in self.where:
            return
        self.where[token] = name
        if token.startswith(SNAC_PREFIX):
            self.snac_codes += 1
        elif self.bicodec is None and token.startswith(BICODEC_PREFIX):
            self.bicodec = token

    def has(self, *tokens: str) -> bool:
        return all(token in self.where for token in tokens)

    def named(self, *tokens: str) -> str:
        files = sorted({self.where[token] for token in tokens if token in self.where})
        return ", ".join(tokens) + " in " + ", ".join(files)


def _collect(tokenizer_texts: object) -> tuple[_Tokens, list[str], list[str]]:
    tokens = _Tokens()
    read: list[str] = []
    unreadable: list[str] = []
    if not isinstance(tokenizer_texts, Mapping):
        if tokenizer_texts is not None:
            unreadable.append("tokenizer_texts (not a mapping)")
        return tokens, read, unreadable
    ordered = [name for name in TOKENIZER_FILES if name in tokenizer_texts]
    ordered += [name for name in tokenizer_texts if name not in TOKENIZER_FILES]
    for name in ordered:
        label = name if isinstance(name, str) else repr(name)[:80]
        text = _as_text(tokenizer_texts.get(name))
        if text is None:
            unreadable.append(f"{label} (not text)")
            continue
        if len(text) > MAX_TEXT_CHARS:
            unreadable.append(f"{label} (too large: {len(text)} chars)")
            continue
        if not mentions_audio(text):
            # Nothing in it can match; counted as read only when it looks whole.
            if looks_complete(text):
                read.append(label)
            else:
                unreadable.append(f"{label} (looks truncated)")
            continue
        try:
            data = json.loads(text)
        except Exception:  # ValueError, RecursionError on absurd nesting, ...
            unreadable.append(f"{label} (not JSON)")
            continue
        if not isinstance(data, Mapping):
            unreadable.append(f"{label} (not a JSON object)")
            continue
        read.append(label)
        for count, token in enumerate(_tokens_from_parsed(name, data)):
            if count >= MAX_TOKENS_PER_FILE:
                break
            tokens.add(token, label)
    return tokens, read, unreadable


@dataclasses.dataclass(frozen=True)
class _ConfigFacts:
    present: bool
    model_type: str | None = None
    architectures: tuple[str, ...] = ()
    audio_encoder: str | None = None  # where the audio encoder was found, if anywhere

    @property
    def is_csm(self) -> bool:
        return self.model_type in CSM_MODEL_TYPES or any(a in CSM_ARCHITECTURES for a in self.architectures)

    @property
    def is_whisper(self) -> bool:
        return self.model_type in WHISPER_MODEL_TYPES or any(
            a.startswith(WHISPER_ARCH_PREFIX) for a in self.architectures)


def _config_facts(config: object) -> _ConfigFacts:
    if not isinstance(config, Mapping):
        return _ConfigFacts(present=False)
    model_type = config.get("model_type")
    model_type = model_type if isinstance(model_type, str) and len(model_type) < 200 else None
    archs = config.get("architectures")
    architectures = tuple(a for a in archs[:64] if isinstance(a, str)) if isinstance(archs, list) else ()
    audio_encoder = None
    for key in AUDIO_ENCODER_KEYS:
        if isinstance(config.get(key), Mapping):
            audio_encoder = key
            break
    if audio_encoder is None:
        for nested in NESTED_CONFIGS:
            sub = config.get(nested)
            if isinstance(sub, Mapping):
                for key in AUDIO_ENCODER_KEYS:
                    if isinstance(sub.get(key), Mapping):
                        audio_encoder = f"{nested}.{key}"
                        break
            if audio_encoder:
                break
    if audio_encoder is None and model_type in AUDIO_LM_MODEL_TYPES:
        audio_encoder = f"model_type {model_type}"
    return _ConfigFacts(True, model_type, architectures, audio_encoder)


# --- the rules ------------------------------------------------------------------------------------


def judge_audio_detail(config: object, tokenizer_texts: object) -> AudioJudgement:
    """Judge from a parsed ``config.json`` (or None) and raw tokenizer texts keyed by file name."""
    try:
        return _judge(config, tokenizer_texts)
    except Exception as exc:  # a bug or an input nobody foresaw: unknown, never a crash
        return AudioJudgement(None, f"not judged: {type(exc).__name__}", (), ("all inputs",))


def judge_audio(config: object, tokenizer_texts: object) -> tuple[str | None, str]:
    """``(audio_type or None, evidence)``; see the module docstring for the rules."""
    judgement = judge_audio_detail(config, tokenizer_texts)
    return judgement.audio_type, judgement.evidence


def _judge(config: object, tokenizer_texts: object) -> AudioJudgement:
    facts = _config_facts(config)
    tokens, read, unreadable = _collect(tokenizer_texts)
    if facts.present:
        read.insert(0, "config.json")
    elif config is not None:
        unreadable.insert(0, "config.json (not a JSON object)")

    def answer(audio_type: str | None, evidence: str) -> AudioJudgement:
        return AudioJudgement(audio_type, evidence, tuple(read), tuple(unreadable))

    qwen_pair = tokens.has(QWEN_AUDIO, QWEN_AUDIO_EOS)

    # csm: Sesame's own config, or (no config) the token pair without Qwen's audio-input opener.
    if facts.is_csm:
        return answer("csm", f"csm: config.json model_type={facts.model_type!r}, "
                             f"architectures={list(facts.architectures)}")
    if not facts.present and qwen_pair and not tokens.has(QWEN_AUDIO_BOS):
        return answer("csm", f"csm: {tokens.named(QWEN_AUDIO, QWEN_AUDIO_EOS)}, no config.json to say otherwise")

    if tokens.has(WHISPER_TOKEN):
        return answer("whisper", f"whisper: {tokens.named(WHISPER_TOKEN)}")
    if facts.is_whisper:
        return answer("whisper", f"whisper: config.json model_type={facts.model_type!r}")

    if tokens.bicodec is not None:
        return answer("bicodec", f"bicodec: {tokens.named(tokens.bicodec)}")
    if tokens.has(*DAC_TOKENS):
        return answer("dac", f"dac: {tokens.named(*DAC_TOKENS)}")
    if tokens.snac_codes > SNAC_MIN_CODES:
        return answer("snac", f"snac: {tokens.snac_codes} {SNAC_PREFIX}N> codes (> {SNAC_MIN_CODES})")

    # audio_vlm: the config's audio encoder is the strongest evidence.
    if facts.audio_encoder is not None:
        return answer("audio_vlm", f"audio_vlm: config.json has {facts.audio_encoder}")

    token_signal = None
    for token in GEMMA_AUDIO_TOKENS:
        if tokens.has(token):
            token_signal = tokens.named(token)
            break
    if token_signal is None and tokens.has(QWEN_AUDIO) and (tokens.has(QWEN_AUDIO_BOS) or tokens.has(QWEN_AUDIO_EOS)):
        present = [t for t in (QWEN_AUDIO, QWEN_AUDIO_BOS, QWEN_AUDIO_EOS) if tokens.has(t)]
        token_signal = tokens.named(*present)
    if token_signal is None and tokens.has(*QWEN3_AUDIO_SPAN):
        token_signal = tokens.named(*QWEN3_AUDIO_SPAN)
    if token_signal is not None:
        if facts.present:
            return answer(None, f"not audio: {token_signal}, but config.json (model_type={facts.model_type!r}) "
                                "has no audio encoder")
        return answer("audio_vlm", f"audio_vlm: {token_signal}")

    if not read:
        return answer(None, "unknown: no usable input" + (f" ({'; '.join(unreadable)})" if unreadable else ""))
    return answer(None, "not audio: no audio signal in " + ", ".join(read))
