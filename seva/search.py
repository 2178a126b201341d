"""Find services in the catalog from what a citizen typed, in any script or romanisation.

Every name and synonym of a service is folded to the common Latin key (``textnorm``); a
query is matched token by token (exact, consonant skeleton, prefix, edit distance, and
joined neighbours so "praman patra" meets "pramanapatra"), weighted by how rare a token is
across the catalog, so "income" decides more than "certificate".
"""
from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from rapidfuzz import fuzz, process

from seva.catalog import Catalog, Service
from seva.language import HINDI_MARKERS, ODIA_MARKERS
from seva.textnorm import latin_key, skeleton

MAX_QUERY_TOKENS = 60  # bounded work for any message; a service is named well within this

# Words that say "I want / how do I get" rather than which service; folded at import time.
# The romanised Hindi and Odia marker words (seva.language) are added to these.
_STOP_WORDS = """
i me my we want need would like to apply applying application applications for a an the of
get getting make making new issue issued issuing disposal please how what is are do can give
about status my details info information online process know tell want wanted help
in on with from by and or it this that at
mujko hame hamein humko
ke ki ka ko banana kese
kahan aur bhi se par me ho jata
mo darakara paen re ku
au ra ta
मुझे मेरा मेरी मेरे हमें चाहिए है हैं के की का को लिए करना करनी बनवाना कैसे मिलेगा क्या कहाँ और से में
ମୋତେ ମୋର ମୋ ଦରକାର ପାଇଁ କେମିତି କଣ କ'ଣ ରେ କୁ ହେବ କରିବି ଚାହୁଁଛି ଦିଅ ଦିଅନ୍ତୁ ଅଛି ଓ ଆଉ ର
"""
# Words that say what the citizen asks ABOUT a service (days, fee, documents, officer) rather
# than which service. They still help match a service named by them ("registration of
# documents"), but a query is not penalised for the ones no service name explains.
_QUESTION_WORDS = """
days day time long take takes taking fee fees cost charge charges document documents docs
papers required needed eligibility eligible who which where when officer much many
procedure steps rules whole full
प्रोसेस प्रक्रिया पूरा पूरी तरीका नियम ପ୍ରୋସେସ ପ୍ରକ୍ରିୟା ପୂରା ଉପାୟ ନିୟମ prakriya prakriy tarika niyam pura puri
din dino kitne kitna kitni samay lagta lagte lagega lagegi lagenge fees shulk kagaz kagaj
kagzat dastavez dastavej kaun kon kaunsa kab yogyata adhikari
dina dinare kete samaya lage lagiba lagib kagaja kagajapatra kie keun keunthi kouthi kebe
jogyata adhikari
दिन कितने कितना कितनी समय लगता लगते लगेगा फीस शुल्क कागज कागजात दस्तावेज कौन कब योग्यता अधिकारी
ଦିନ ଦିନରେ କେତେ ସମୟ ଲାଗେ ଲାଗିବ ଫି କାଗଜ କାଗଜପତ୍ର କିଏ କେଉଁ କେଉଁଠି କେବେ ଯୋଗ୍ୟତା ଅଧିକାରୀ
"""
EXACT = 0.999  # a blended score this high means every query word met an alias word exactly

STOP_KEYS = frozenset(w for raw in [*_STOP_WORDS.split(), *HINDI_MARKERS, *ODIA_MARKERS]
                      for w in latin_key(raw).split())
QUESTION_KEYS = frozenset(w for raw in _QUESTION_WORDS.split() for w in latin_key(raw).split()) - STOP_KEYS


@dataclass(frozen=True)
class Match:
    service: Service
    score: float


@dataclass(frozen=True)
class Resolution:
    """The outcome of resolving free text: one service, a few candidates, or none."""

    service: Optional[Service]
    candidates: List[Match]

    @property
    def ambiguous(self) -> bool:
        return self.service is None and bool(self.candidates)


class Vocabulary:
    """Everyday words folded onto the catalog's word: "bike", "gaadi", "ଗାଡ଼ି" → "vehicle".

    Built from ``catalog/vocabulary.yml``. Applied to service aliases and queries alike, so
    a citizen's word meets the official one exactly. A folded spelling that two groups share
    is left alone rather than guessed.
    """

    def __init__(self, groups: Sequence[Sequence[str]] = ()):
        mapping: Dict[Tuple[str, ...], Tuple[str, ...]] = {}
        clashes = set()
        for group in groups:
            lead = tuple(latin_key(group[0]).split())
            for word in group:
                key = tuple(latin_key(word).split())
                if not key or len(key) > 2:
                    continue
                if mapping.get(key, lead) != lead:
                    clashes.add(key)
                mapping[key] = lead
        self._map = {k: v for k, v in mapping.items() if k not in clashes}

    def tokens(self, text: str) -> List[str]:
        raw = latin_key(text).split()
        out: List[str] = []
        i = 0
        while i < len(raw):
            pair = tuple(raw[i:i + 2])
            if len(pair) == 2 and pair in self._map:
                out.extend(self._map[pair])
                i += 2
                continue
            out.extend(self._map.get((raw[i],), (raw[i],)))
            i += 1
        return [t for t in out if t not in STOP_KEYS]


def _variants(tokens: List[str]) -> List[Tuple[str, ...]]:
    """The alias itself plus each neighbour pair joined ("praman patr" → "pramanpatr")."""
    out = [tuple(tokens)]
    for i in range(len(tokens) - 1):
        out.append(tuple(tokens[:i] + [tokens[i] + tokens[i + 1]] + tokens[i + 2:]))
    return out


def _blend(coverage: float, precision: float) -> float:
    """Harmonic mean: a service scores high only when its alias is covered by the query AND
    the query's words are explained by the alias (a short generic alias such as "praman
    patra" covers itself fully but explains little of "aay praman patra")."""
    if coverage <= 0 or precision <= 0:
        return 0.0
    return 2 * coverage * precision / (coverage + precision)


class ServiceIndex:
    """An in-memory index over one catalog; build once, query many times."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.vocabulary = Vocabulary(catalog.vocabulary)
        self._aliases: List[Tuple[str, Tuple[str, ...]]] = []
        for service in catalog.services.values():
            texts = [*service.names.values(), *service.synonyms, service.official_name, service.id.replace("_", " ")]
            seen = set()
            for text in texts:
                tokens = self.vocabulary.tokens(text)
                for variant in _variants(tokens) if tokens else []:
                    if variant not in seen:
                        seen.add(variant)
                        self._aliases.append((service.id, variant))
        doc_freq: Dict[str, set] = defaultdict(set)
        for sid, alias in self._aliases:
            for token in alias:
                doc_freq[token].add(sid)
        total = max(len(catalog.services), 1)
        self._idf = {tok: math.log(1 + total / len(sids)) for tok, sids in doc_freq.items()}
        self._vocab = list(self._idf)
        self._sorted_vocab = sorted(self._vocab)
        self._skeletons: Dict[str, List[str]] = defaultdict(list)
        for token in self._vocab:
            if len(token) >= 3:
                self._skeletons[skeleton(token)].append(token)
        self._alias_weight = [sum(self._idf[t] for t in tokens) for _sid, tokens in self._aliases]
        self._by_token: Dict[str, List[int]] = defaultdict(list)
        for i, (_sid, alias) in enumerate(self._aliases):
            for token in set(alias):
                self._by_token[token].append(i)

    def _fuzzy(self, units: List[str]) -> Dict[str, Dict[str, float]]:
        """Edit-distance neighbours of every unit of four letters or more, in one pass over
        the vocabulary (one call converts the vocabulary once, not once per word)."""
        long_units = [u for u in units if len(u) >= 4]
        out: Dict[str, Dict[str, float]] = {u: {} for u in units}
        if not long_units:
            return out
        # rapidfuzz's stub wants an np.dtype, but cdist accepts only the scalar type (`dtype is np.uint8`)
        matrix = process.cdist(long_units, self._vocab, scorer=fuzz.ratio, score_cutoff=78,
                               dtype=np.uint8)  # type: ignore[call-overload]
        for row, unit in zip(matrix, long_units, strict=True):  # one row per unit
            for j in np.flatnonzero(row):
                out[unit][self._vocab[j]] = float(row[j]) / 100 * 0.9
        return out

    def _similar(self, unit: str, fuzzy: Dict[str, float]) -> Dict[str, float]:
        sims: Dict[str, float] = {}
        if unit in self._idf:
            sims[unit] = 1.0
        shape = skeleton(unit)
        if len(unit) >= 4 and len(shape) >= 3:  # short skeletons collide ("bek"/"buk", "helo"/"hal")
            for token in self._skeletons.get(shape, ()):
                sims.setdefault(token, 0.85)
        for token, score in fuzzy.items():
            sims[token] = max(sims.get(token, 0.0), score)
        if len(unit) >= 3:
            start = bisect.bisect_right(self._sorted_vocab, unit)  # tokens that extend ``unit``
            for token in self._sorted_vocab[start:]:
                if not token.startswith(unit):
                    break
                sims[token] = max(sims.get(token, 0.0), 0.75)
        return sims

    def _word_weight(self, word: str, similar: Dict[str, float], rare: float) -> float:
        """How much a query word says: the rarity of the catalog word it most resembles
        (itself when the catalog has it), not of every longer word it is a prefix of."""
        if word in self._idf:
            return self._idf[word]
        if not similar:
            return rare * 0.5  # an unknown word: narrative ("papa guzar gaye") as often as a service word
        best = max(similar.values())
        return min(self._idf[t] for t, score in similar.items() if score == best)

    def search(self, text: str, limit: int = 3) -> List[Match]:
        """The best ``limit`` services for ``text``, best first, with scores in 0..1."""
        tokens = self.vocabulary.tokens(text)[:MAX_QUERY_TOKENS]
        if not tokens:
            return []
        joined = {tokens[i] + tokens[i + 1]: (tokens[i], tokens[i + 1]) for i in range(len(tokens) - 1)}
        units = list(dict.fromkeys(tokens + list(joined)))
        fuzzy = self._fuzzy(units)
        sims = {unit: self._similar(unit, fuzzy[unit]) for unit in units}
        best_token: Dict[str, float] = defaultdict(float)  # vocab token → best similarity
        # vocab token → the query words it explains, directly or as half of a joined pair
        explains: Dict[str, Dict[str, float]] = defaultdict(dict)
        for unit, unit_sims in sims.items():
            words = ((unit,) if unit in tokens else ()) + joined.get(unit, ())
            for token, score in unit_sims.items():
                best_token[token] = max(best_token[token], score)
                for word in words:
                    if score > explains[token].get(word, 0.0):
                        explains[token][word] = score
        candidate_aliases = {i for token in best_token for i in self._by_token[token]}
        # how much each query word says: the rarity of what it matches (a word no alias
        # has counts half as much as the rarest, so unexplained words lower a score without
        # drowning a service named inside a longer story)
        rare = max(self._idf.values(), default=1.0)
        counts = Counter(tokens)
        weight = {u: 0.0 if u in QUESTION_KEYS else self._word_weight(u, sims[u], rare) for u in counts}
        total_weight = sum(weight.values()) or 1.0
        scores: Dict[str, float] = defaultdict(float)
        for i in candidate_aliases:
            sid, alias = self._aliases[i]
            total = self._alias_weight[i]
            covered = sum(self._idf[t] * best_token.get(t, 0.0) for t in alias)
            coverage = covered / total if total else 0.0
            best_word: Dict[str, float] = {}
            for t in alias:
                for word, score in explains.get(t, {}).items():
                    if score > best_word.get(word, 0.0):
                        best_word[word] = score
            explained = sum(counts[w] * weight[w] * score for w, score in best_word.items())
            precision = explained / total_weight
            scores[sid] = max(scores[sid], _blend(coverage, precision))
        self._fold_repeats(scores)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return [Match(self.catalog.services[sid], round(score, 4)) for sid, score in ranked[:limit]]

    def _fold_repeats(self, scores: Dict[str, float], margin: float = 0.1) -> None:
        """A service the source lists again under an older rule ("Marriage certificate
        (2013)") gives way to the entry it repeats, unless the query matched it clearly better."""
        for sid in [s for s in scores if self.catalog.services[s].same_as]:
            primaries = [p for p in self.catalog.services[sid].same_as if p in scores]
            if primaries and scores[sid] <= max(scores[p] for p in primaries) + margin:
                best = max(primaries, key=lambda p: scores[p])
                scores[best] = max(scores[best], scores.pop(sid))

    def resolve(self, text: str, accept: float = 0.62, margin: float = 0.12) -> Resolution:
        """One clear service, or up to three candidates when unsure, or nothing."""
        matches = [m for m in self.search(text, limit=3) if m.score >= 0.4]
        if not matches:
            return Resolution(None, [])
        top = matches[0]
        runner_up = matches[1].score if len(matches) > 1 else 0.0
        # a query that is exactly one service's name (every word matched, nothing left over)
        # names that service even when a longer variant ("Horti fertiliser licence") is near
        exact = top.score >= EXACT and runner_up < EXACT
        if exact or (top.score >= accept and top.score - runner_up >= margin):
            return Resolution(top.service, matches)
        return Resolution(None, matches)


_INDEXES: Dict[int, ServiceIndex] = {}


def index_for(catalog: Catalog) -> ServiceIndex:
    """A cached index for a loaded catalog object."""
    key = id(catalog)
    if key not in _INDEXES:
        _INDEXES[key] = ServiceIndex(catalog)
    return _INDEXES[key]


def page(items: Sequence, number: int, size: int) -> Tuple[List, bool]:
    """Items of page ``number`` (0-based) and whether another page follows."""
    start = max(number, 0) * size
    return list(items[start:start + size]), start + size < len(items)
