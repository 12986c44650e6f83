"""The submitters registry (config/submitters.yaml) and resolution of 填报单位 text to it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from pipelines import config
from pipelines.text import norm

STREET = "街道"
DEPT = "区安委会成员单位"

# Decorations people add around the unit name in 「填报单位（盖章）：」.
_NOISE = re.compile(r"（?盖章）?|（?公章）?|（?签章）?|填报单位[:：]?|单位名称[:：]?|[:：_＿]+")


@dataclass(frozen=True, slots=True)
class Submitter:
    name: str
    code: str
    type: str
    aliases: tuple[str, ...]
    forms: tuple[str, ...]
    enterprise_base: int | None = None
    old_city: bool = False
    email: str | None = None
    emails: tuple[str, ...] = ()  # known sender addresses (mail intake recognises the unit)

    @property
    def row_key(self) -> str:
        return config.load("submitters.yaml")["types"][self.type]["row_key"]

    @property
    def is_street(self) -> bool:
        return self.type == STREET


@dataclass(frozen=True)
class Registry:
    submitters: tuple[Submitter, ...]

    def by_name(self, name: str) -> Submitter:
        for s in self.submitters:
            if s.name == name:
                return s
        raise KeyError(name)

    def of_type(self, type_: str) -> tuple[Submitter, ...]:
        return tuple(s for s in self.submitters if s.type == type_)

    @property
    def _index(self) -> dict[str, Submitter]:
        return _index_for(self)

    def resolve(self, text: object) -> Submitter | None:
        """The submitter named by free text, or None. Tolerates 「（盖章）」, 「办事处」, the 鲤城区
        prefix, spaces and full-width characters; refuses ambiguous partial matches."""
        key = clean_unit_name(text)
        if not key:
            return None
        idx = self._index
        if key in idx:
            return idx[key]
        for variant in (
            key.removeprefix("泉州市"),
            key.removeprefix("鲤城区"),
            key.removesuffix("办事处"),
        ):
            if variant in idx:
                return idx[variant]
        hits = {s.name: s for k, s in idx.items() if len(k) >= 2 and k in key}
        return next(iter(hits.values())) if len(hits) == 1 else None

    def suggest(self, text: object, limit: int = 2) -> list[str]:
        """Registered names close to an unresolved 填报单位 (「长泰街道」 → ["常泰街道"]), best
        first: a suggestion for the submitter to confirm, never a guess the front door acts on.
        Scored by rapidfuzz's edit-distance ratio over every name and alias, cleaned as
        `resolve` cleans them; names below SUGGEST_MIN_SCORE, or clearly behind the best, are
        not offered."""
        from rapidfuzz import fuzz, process

        key = clean_unit_name(text)
        if not key:
            return []
        idx = self._index
        variants = {
            key,
            key.removeprefix("泉州市"),
            key.removeprefix("鲤城区"),
            key.removesuffix("办事处"),
        }
        best: dict[str, float] = {}
        for variant in variants - {""}:
            for _alias, score, _ in process.extract(
                variant, list(idx), scorer=fuzz.ratio, score_cutoff=SUGGEST_MIN_SCORE, limit=8
            ):
                name = idx[_alias].name
                best[name] = max(best.get(name, 0.0), score)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
        top = ranked[0][1] if ranked else 0.0
        return [name for name, score in ranked[:limit] if score >= top - SUGGEST_TIE]


# Edit-distance ratio (0–100) a registered name must reach to be suggested: 「长泰街道」 and
# 「常泰街道」 score 75, unrelated units of the same kind (「开元街道」) 50.
SUGGEST_MIN_SCORE = 60.0
SUGGEST_TIE = 3.0  # a second name is offered only when it is about as close as the first


@cache
def _index_for(reg: Registry) -> dict[str, Submitter]:
    idx: dict[str, Submitter] = {}
    for s in reg.submitters:
        for alias in (s.name, *s.aliases):
            idx[norm(alias)] = s
    return idx


def clean_unit_name(text: object) -> str:
    return _NOISE.sub("", norm(text))


@cache
def _registry(config_dir: str) -> Registry:
    raw = config.load("submitters.yaml")
    types = raw["types"]
    return Registry(
        tuple(
            Submitter(
                name=s["name"],
                code=s["code"],
                type=s["type"],
                aliases=tuple(s.get("aliases", ())),
                forms=tuple(s.get("forms") or types[s["type"]]["forms"]),
                enterprise_base=s.get("enterprise_base"),
                old_city=bool(s.get("old_city", False)),
                email=s.get("email"),
                emails=tuple(s.get("emails") or ()),
            )
            for s in raw["submitters"]
        )
    )


def load_registry() -> Registry:
    return _registry(str(config.config_dir()))
