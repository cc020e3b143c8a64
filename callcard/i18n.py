"""Every string the operator reads, in one catalogue (English and Russian).

English is the fallback for any other portal language and for any key a language lacks, so a
missing translation shows English words, never a key name.
"""

from __future__ import annotations

from collections.abc import Mapping

FALLBACK = "en"

CATALOGUE: Mapping[str, Mapping[str, str]] = {
    "en": {
        "card.title": "Call card",
        "status.loading": "Loading the call card…",
        "status.outside": (
            "This page is a Bitrix24 call card tab. It works inside a call card of your portal; "
            "opened on its own it has no call to show."
        ),
        "status.outside.hint": "To try it without a portal, open the local simulator:",
        "status.outside.link": "call card simulator",
        "status.error": "The call data could not be loaded.",
        "status.retry": "Try again",
        "label.caller": "Caller",
        "label.direction": "Direction",
        "label.state": "State",
        "label.line": "Line",
        "number.hidden": "Hidden number",
        "number.unknown": "Unknown number",
        "direction.incoming": "Incoming call",
        "direction.outgoing": "Outgoing call",
        "direction.callback": "Callback",
        "direction.incomingTransfer": "Transferred call",
        "direction.unknown": "Call",
        "state.idle": "Waiting",
        "state.connecting": "Connecting",
        "state.connected": "Talking",
        "state.ended": "Ended",
        "state.unknown": "Unknown state",
        "line.none": "No line",
    },
    "ru": {
        "card.title": "Карточка звонка",
        "status.loading": "Загрузка карточки звонка…",
        "status.outside": (
            "Эта страница — вкладка карточки звонка Битрикс24. Она работает внутри карточки "
            "звонка вашего портала; открытая отдельно, она не видит звонка."
        ),
        "status.outside.hint": "Чтобы попробовать без портала, откройте локальный симулятор:",
        "status.outside.link": "симулятор карточки звонка",
        "status.error": "Не удалось загрузить данные звонка.",
        "status.retry": "Повторить",
        "label.caller": "Абонент",
        "label.direction": "Направление",
        "label.state": "Состояние",
        "label.line": "Линия",
        "number.hidden": "Скрытый номер",
        "number.unknown": "Номер неизвестен",
        "direction.incoming": "Входящий звонок",
        "direction.outgoing": "Исходящий звонок",
        "direction.callback": "Обратный звонок",
        "direction.incomingTransfer": "Переведённый звонок",
        "direction.unknown": "Звонок",
        "state.idle": "Ожидание",
        "state.connecting": "Соединение",
        "state.connected": "Разговор",
        "state.ended": "Завершён",
        "state.unknown": "Состояние неизвестно",
        "line.none": "Линия не указана",
    },
}


def pick_language(portal_lang: object) -> str:
    """The catalogue language for ``BX24.getLang()``; Ukrainian and Belarusian portals read Russian
    better than English, every other language gets English."""
    code = portal_lang.strip().lower()[:2] if isinstance(portal_lang, str) else ""
    if code in CATALOGUE:
        return code
    return "ru" if code in {"ua", "uk", "by", "be", "kz"} else FALLBACK


class Translator:
    """``t("state.connected")`` -> the words in the chosen language, English where it has none."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in CATALOGUE else FALLBACK
        self._strings = CATALOGUE[self.lang]

    def __call__(self, key: str) -> str:
        text = self._strings.get(key)
        if text is None:
            text = CATALOGUE[FALLBACK].get(key, key)
        return text
