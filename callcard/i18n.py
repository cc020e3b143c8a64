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
        "status.outside": (
            "This page is a Bitrix24 call card tab. It works inside a call card of your portal; "
            "opened on its own it has no call to show."
        ),
        "status.outside.hint": "To try it without a portal, open the local simulator:",
        "status.outside.link": "call card simulator",
        "status.error": "The call data could not be loaded. Check the connection and try again.",
        "status.retry": "Try again",
        "label.line": "Line",
        "number.hidden": "Hidden number",
        "number.unknown": "Unknown number",
        "direction.incoming": "Incoming call",
        "direction.outgoing": "Outgoing call",
        "direction.callback": "Callback",
        "direction.incomingTransfer": "Transferred call",
        "direction.unknown": "Call",
        "line.none": "No line",
        "label.client": "Client",
        "label.crm": "CRM",
        "phase.waiting": "Waiting",
        "phase.connecting": "Connecting",
        "phase.talking": "Talking",
        "phase.ended": "Ended",
        "phase.not_connected": "Not connected",
        "failure.generic": "Call failed ({code})",
        "failure.missed": "Missed call ({code})",
        "failure.no_funds": "Not enough funds on the account ({code})",
        "failure.forbidden": "Call not allowed ({code})",
        "failure.not_found": "Number not found ({code})",
        "failure.no_answer": "No answer ({code})",
        "failure.blocked": "Direction blocked ({code})",
        "failure.unavailable": "Temporarily unavailable ({code})",
        "failure.incomplete": "Incomplete number ({code})",
        "failure.busy": "Busy ({code})",
        "failure.cancelled": "Call cancelled ({code})",
        "failure.line_down": "Line unavailable ({code})",
        "failure.declined": "Call declined ({code})",
        "list_mode": "Call list",
        "crm.kind.lead": "lead",
        "crm.kind.deal": "deal",
        "crm.kind.contact": "contact",
        "crm.kind.company": "company",
        "crm.link.unnamed": "#{id}",
        "crm.unbound": "Not linked to CRM",
        # Keys other modules of the app use (view, notes, client, install page).
        "label.call": "Call",
        "label.notes": "Notes",
        "notes.label": "Call notes",
        "notes.placeholder": "What was agreed, what to do next…",
        "notes.save": "Save to CRM",
        "notes.state.empty": "No notes yet",
        "notes.state.draft": "Not saved yet",
        "notes.state.saving": "Saving…",
        "notes.state.saved": "Saved to the CRM timeline",
        "notes.state.failed": "Not saved. The notes stay on this card; press Save to try again.",
        "notes.error.no_access": (
            "No permission to write to this client's timeline. Ask your Bitrix24 "
            "administrator; the notes stay on this card."
        ),
        "notes.error.item_gone": (
            "This client's CRM item no longer exists (deleted or merged). The notes stay on "
            "this card: copy them to where they belong."
        ),
        "notes.error.comment_gone": (
            "The saved comment was deleted in the CRM; the notes are saved as a new one."
        ),
        "notes.error.timeout": (
            "Bitrix24 did not answer in time. Check the connection and press Save again; the "
            "notes stay on this card."
        ),
        "notes.error.unavailable": (
            "Bitrix24 could not save the notes just now. Press Save again in a moment; the "
            "notes stay on this card."
        ),
        "notes.others": "Notes about other clients of this card",
        "notes.other": "{client}: {state}",
        "notes.other.saving": "saving…",
        "notes.other.saved": "saved to the CRM timeline",
        "notes.other.draft": "not saved yet, saving soon",
        "notes.other.failed": "not saved, trying again",
        "notes.other.stuck": "not saved: {problem}",
        "notes.other.no_target": "not linked to a CRM item, so it cannot be saved. Its text:",
        "notes.keep_open": "Keep the card open after the call",
        "notes.drafts_off": (
            "This browser does not keep drafts for this app: the notes are saved to the CRM "
            "when you press Save or the card closes."
        ),
        "hold.during": (
            "After the call this card stays open, and new incoming calls wait until it closes."
        ),
        "hold.until": "This card stays open, and new incoming calls wait, until {time}.",
        "hold.close_now": "Close now",
        "notes.no_target": (
            "This call is not linked to a CRM item, so the notes cannot be saved yet. "
            "They stay on this card."
        ),
        "client.loading": "Loading client details…",
        "client.new": "New client",
        "client.unnamed": "Untitled",
        "client.partial": "Some details could not be loaded.",
        "label.company": "Company",
        "label.contact": "Contact",
        "label.responsible": "Responsible",
        "client.not_found": "The CRM item was not found (deleted or merged).",
        "client.no_access": "You have no access to this CRM item.",
        "client.unavailable": "Bitrix24 did not answer with the client's data.",
        "client.retry": "Try again",
        "client.deals": "Open deals",
        "client.last": "Last contact: {when} · {what}",
        "client.last.by": "Last contact: {when} · {what} · {by}",
        "activity.call.1": "Incoming call",
        "activity.call.2": "Outgoing call",
        "activity.call": "Call",
        "activity.meeting": "Meeting",
        "activity.task": "Task",
        "activity.email.1": "Email received",
        "activity.email.2": "Email sent",
        "activity.email": "Email",
        "activity.other": "Activity",
        "activity.comment": "Comment",
        "activity.comment.line": "Comment “{line}”",
        "copy.number": "Copy",
        "copy.number.title": "Copy the caller's number",
        "copy.done": "Copied",
        "copy.failed": "Select the number to copy it",
        "client.deal.stage": "Stage: {stage}",
        "outcome.title": "Outcome",
        "outcome.reached": "Reached",
        "outcome.no-answer": "No answer",
        "outcome.call-back": "Call back",
        "outcome.wrong-number": "Wrong number",
        "callback.title": "Call back",
        "callback.in_hour": "In 1 hour",
        "callback.tomorrow": "Tomorrow 10:00",
        "callback.at": "Date and time",
        "callback.set": "Remind me",
        "callback.todo": "Call back {client}",
        "callback.todo.text": "Call back {number}. Set from the call card.",
        "callback.creating": "Creating a to-do for {when}…",
        "callback.created": "To-do created: call back {when}",
        "callback.retrying": "The to-do for {when} is not created yet; trying again.",
        "callback.failed": "The to-do for {when} was not created: {problem}",
        "callback.no_target": (
            "Link the call to a client first: the to-do goes to the client in the CRM."
        ),
        "callback.past": "Choose a time in the future.",
        "callback.no_time": "Choose the date and time to call back first.",
        "callback.problem.no_access": "you may not add to-dos for this client",
        "callback.problem.item_gone": "the client's CRM item no longer exists",
        "callback.problem.comment_gone": "the to-do was deleted in the CRM",
        "callback.problem.timeout": "Bitrix24 did not answer in time",
        "callback.problem.unavailable": "Bitrix24 could not take it just now",
        "lead.create": "Create a lead",
        "lead.creating": "Creating a lead…",
        "lead.failed": "The lead was not created. Press the button to try again.",
        "lead.no_access": "You may not create leads on this portal.",
        "lead.title": "Call from {number}",
        "install.outside": "This is the install page of the call card. Open it from Bitrix24.",
        "install.checking": "Checking the call card tab…",
        "install.binding": "Adding the call card tab…",
        "install.done": "The call card tab is installed.",
        "install.step.kept": "Already installed: {url}",
        "install.step.bound": "Added the tab: {url}",
        "install.step.unbound": "Removed an old tab: {url}",
        "install.error.no_telephony": "The app has no access to telephony on this portal.",
        "install.error.wrong_auth": "The app must be installed from the portal, not by a webhook.",
        "install.error.not_admin": "Only a portal administrator can install the call card.",
        "install.error.timeout": "Bitrix24 did not answer in time. Press Try again.",
        "install.error.other": (
            "The installation failed. Press Try again; if it fails again, give whoever set up "
            "the app this code: {code}."
        ),
    },
    "ru": {
        "card.title": "Карточка звонка",
        "status.outside": (
            "Эта страница — вкладка карточки звонка Битрикс24. Она работает внутри карточки "
            "звонка вашего портала; открытая отдельно, она не видит звонка."
        ),
        "status.outside.hint": "Чтобы попробовать без портала, откройте локальный симулятор:",
        "status.outside.link": "симулятор карточки звонка",
        "status.error": "Не удалось загрузить данные звонка. Проверьте связь и повторите.",
        "status.retry": "Повторить",
        "label.line": "Линия",
        "number.hidden": "Скрытый номер",
        "number.unknown": "Номер неизвестен",
        "direction.incoming": "Входящий звонок",
        "direction.outgoing": "Исходящий звонок",
        "direction.callback": "Обратный звонок",
        "direction.incomingTransfer": "Переведённый звонок",
        "direction.unknown": "Звонок",
        "line.none": "Линия не указана",
        "label.client": "Клиент",
        "label.crm": "CRM",
        "phase.waiting": "Ожидание",
        "phase.connecting": "Соединение",
        "phase.talking": "Разговор",
        "phase.ended": "Звонок завершён",
        "phase.not_connected": "Звонок не состоялся",
        "failure.generic": "Звонок не удался ({code})",
        "failure.missed": "Пропущенный звонок ({code})",
        "failure.no_funds": "Недостаточно средств на счёте ({code})",
        "failure.forbidden": "Звонок запрещён ({code})",
        "failure.not_found": "Номер не найден ({code})",
        "failure.no_answer": "Нет ответа ({code})",
        "failure.blocked": "Направление заблокировано ({code})",
        "failure.unavailable": "Временно недоступен ({code})",
        "failure.incomplete": "Неполный номер ({code})",
        "failure.busy": "Занято ({code})",
        "failure.cancelled": "Вызов отменён ({code})",
        "failure.line_down": "Линия недоступна ({code})",
        "failure.declined": "Вызов отклонён ({code})",
        "list_mode": "Обзвон",
        "crm.kind.lead": "лид",
        "crm.kind.deal": "сделка",
        "crm.kind.contact": "контакт",
        "crm.kind.company": "компания",
        "crm.link.unnamed": "№{id}",
        "crm.unbound": "Не привязан к CRM",
        "label.call": "Звонок",
        "label.notes": "Заметки",
        "notes.label": "Заметки о звонке",
        "notes.placeholder": "О чём договорились, что делать дальше…",
        "notes.save": "Сохранить в CRM",
        "notes.state.empty": "Заметок пока нет",
        "notes.state.draft": "Не сохранено",
        "notes.state.saving": "Сохранение…",
        "notes.state.saved": "Сохранено в таймлайн CRM",
        "notes.state.failed": (
            "Не сохранено. Заметки остаются в карточке; нажмите «Сохранить», чтобы повторить."
        ),
        "notes.error.no_access": (
            "Нет прав на запись в таймлайн этого клиента. Обратитесь к администратору "
            "Битрикс24; заметки остаются в карточке."
        ),
        "notes.error.item_gone": (
            "Этого объекта CRM больше нет (удалён или объединён). Заметки остаются в "
            "карточке: перенесите их, куда нужно."
        ),
        "notes.error.comment_gone": (
            "Сохранённый комментарий удалили в CRM; заметки сохраняются как новый комментарий."
        ),
        "notes.error.timeout": (
            "Битрикс24 не ответил вовремя. Проверьте связь и нажмите «Сохранить» ещё раз; "
            "заметки остаются в карточке."
        ),
        "notes.error.unavailable": (
            "Битрикс24 сейчас не смог сохранить заметки. Нажмите «Сохранить» чуть позже; "
            "заметки остаются в карточке."
        ),
        "notes.others": "Заметки о других клиентах этой карточки",
        "notes.other": "{client}: {state}",
        "notes.other.saving": "сохраняются…",
        "notes.other.saved": "сохранены в таймлайн CRM",
        "notes.other.draft": "ещё не сохранены, скоро сохранятся",
        "notes.other.failed": "не сохранены, пробуем ещё раз",
        "notes.other.stuck": "не сохранены: {problem}",
        "notes.other.no_target": "звонок не привязан к объекту CRM, сохранить некуда. Текст:",
        "notes.keep_open": "Не закрывать карточку после звонка",
        "notes.drafts_off": (
            "Этот браузер не хранит черновики приложения: заметки сохраняются в CRM, когда вы "
            "нажимаете «Сохранить» или карточка закрывается."
        ),
        "hold.during": (
            "После звонка карточка останется открытой, и новые входящие звонки будут ждать, "
            "пока она не закроется."
        ),
        "hold.until": "Карточка открыта, и новые входящие звонки ждут, до {time}.",
        "hold.close_now": "Закрыть сейчас",
        "notes.no_target": (
            "Звонок не привязан к объекту CRM, поэтому заметки пока некуда сохранить. "
            "Они остаются в карточке."
        ),
        "client.loading": "Загрузка данных клиента…",
        "client.new": "Новый клиент",
        "client.unnamed": "Без названия",
        "client.partial": "Часть данных не удалось загрузить.",
        "label.company": "Компания",
        "label.contact": "Контакт",
        "label.responsible": "Ответственный",
        "client.not_found": "Объект CRM не найден (удалён или объединён).",
        "client.no_access": "У вас нет доступа к этому объекту CRM.",
        "client.unavailable": "Битрикс24 не ответил данными клиента.",
        "client.retry": "Повторить",
        "client.deals": "Открытые сделки",
        "client.last": "Последний контакт: {when} · {what}",
        "client.last.by": "Последний контакт: {when} · {what} · {by}",
        "activity.call.1": "Входящий звонок",
        "activity.call.2": "Исходящий звонок",
        "activity.call": "Звонок",
        "activity.meeting": "Встреча",
        "activity.task": "Задача",
        "activity.email.1": "Письмо получено",
        "activity.email.2": "Письмо отправлено",
        "activity.email": "Письмо",
        "activity.other": "Дело",
        "activity.comment": "Комментарий",
        "activity.comment.line": "Комментарий «{line}»",
        "copy.number": "Копировать",
        "copy.number.title": "Скопировать номер звонящего",
        "copy.done": "Скопировано",
        "copy.failed": "Выделите номер, чтобы скопировать",
        "client.deal.stage": "Стадия: {stage}",
        "outcome.title": "Итог звонка",
        "outcome.reached": "Дозвонились",
        "outcome.no-answer": "Не ответили",
        "outcome.call-back": "Перезвонить",
        "outcome.wrong-number": "Не тот номер",
        "callback.title": "Перезвонить",
        "callback.in_hour": "Через час",
        "callback.tomorrow": "Завтра в 10:00",
        "callback.at": "Дата и время",
        "callback.set": "Напомнить",
        "callback.todo": "Перезвонить: {client}",
        "callback.todo.text": "Перезвонить на {number}. Создано из карточки звонка.",
        "callback.creating": "Создаём дело на {when}…",
        "callback.created": "Дело создано: перезвонить {when}",
        "callback.retrying": "Дело на {when} ещё не создано; пробуем снова.",
        "callback.failed": "Дело на {when} не создано: {problem}",
        "callback.no_target": (
            "Сначала привяжите звонок к клиенту: дело создаётся у клиента в CRM."
        ),
        "callback.past": "Выберите время в будущем.",
        "callback.no_time": "Сначала выберите дату и время звонка.",
        "callback.problem.no_access": "у вас нет права добавлять дела этому клиенту",
        "callback.problem.item_gone": "элемента CRM этого клиента больше нет",
        "callback.problem.comment_gone": "дело удалено в CRM",
        "callback.problem.timeout": "Битрикс24 не ответил вовремя",
        "callback.problem.unavailable": "Битрикс24 сейчас не смог его принять",
        "lead.create": "Создать лид",
        "lead.creating": "Создаём лид…",
        "lead.failed": "Лид не создан. Нажмите кнопку, чтобы попробовать снова.",
        "lead.no_access": "У вас нет права создавать лиды на этом портале.",
        "lead.title": "Звонок с номера {number}",
        "install.outside": "Это страница установки карточки звонка. Откройте её из Битрикс24.",
        "install.checking": "Проверяем вкладку карточки звонка…",
        "install.binding": "Добавляем вкладку карточки звонка…",
        "install.done": "Вкладка карточки звонка установлена.",
        "install.step.kept": "Уже установлена: {url}",
        "install.step.bound": "Вкладка добавлена: {url}",
        "install.step.unbound": "Старая вкладка удалена: {url}",
        "install.error.no_telephony": "У приложения нет доступа к телефонии этого портала.",
        "install.error.wrong_auth": "Приложение нужно устанавливать с портала, а не вебхуком.",
        "install.error.not_admin": "Установить карточку звонка может только администратор портала.",
        "install.error.timeout": "Битрикс24 не ответил вовремя. Нажмите «Повторить».",
        "install.error.other": (
            "Установка не удалась. Нажмите «Повторить»; если не получится, передайте этот "
            "код тому, кто настраивал приложение: {code}."
        ),
    },
}


def pick_language(portal_lang: object) -> str:
    """The catalogue language for ``BX24.getLang()``; Ukrainian and Belarusian portals read Russian
    better than English, every other language gets English."""
    code = portal_lang.strip().lower()[:2] if isinstance(portal_lang, str) else ""
    if code in CATALOGUE:
        return code
    return "ru" if code in {"ua", "uk", "by", "be", "kz"} else FALLBACK


class _KeepMissing(dict[str, str]):
    """format_map mapping that leaves an unknown ``{name}`` in place instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


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

    def format(self, key: str, /, **values: object) -> str:
        """``t.format("crm.link", type="Deal", id=5)`` -> ``"Deal #5"``.

        Values are inserted as plain text (``str()`` of each; braces in them are not read as
        placeholders), for a ``textContent`` sink: never HTML. A placeholder with no value stays
        as written, and a template that cannot be filled comes back unfilled: never raises.
        """
        template = self(key)
        try:
            mapping = _KeepMissing({name: str(value) for name, value in values.items()})
            return template.format_map(mapping)
        except (ValueError, IndexError, KeyError, AttributeError, TypeError):
            return template
