"""``SourceEngine`` ids: a visit's ``traffic_source`` and ``source_detail`` as the Reporting
API's "traffic source (detailed)" dimension names them.

The id is ``<TrafficSource id>.<engine>``: the docs' own examples use ``organic.yandex`` and
``social.ya`` (https://yandex.ru/dev/metrika/ru/stat/examples), and answers of the live API
seen in public client code hold ``referral.chatgpt.com``, ``messenger.telegram``,
``social.instagram``, ``ad.Google Ads`` and ``ad.Яндекс: Директ`` (named "Yandex: Direct").

How ``source_detail`` (free text loaded with the visits) becomes ``<engine>`` — the
emulator's choice, stated in ``docs/FIDELITY.md``:

- no ``source_detail``: no engine (the value is undefined, as for direct visits);
- a name or identifier of :data:`KNOWN` (case-insensitive): the documented identifier
  (identifiers from https://yandex.ru/dev/metrika/ru/management/table-source);
- ``referral`` and ``internal``: the domain, in lower case;
- ``ad``: the detail as given (ad engines are named, not coded, in the live answers);
- anything else: the detail in lower case with spaces as ``_``.
"""

from __future__ import annotations

KNOWN: dict[str, dict[str, tuple[str, str]]] = {
    "organic": {
        "yandex": ("yandex", "Yandex"),
        "яндекс": ("yandex", "Yandex"),
        "google": ("google", "Google"),
        "bing": ("bing", "Bing"),
        "mail.ru": ("mail_ru", "Mail.ru"),
        "mail_ru": ("mail_ru", "Mail.ru"),
        "duckduckgo": ("duckduckgo", "DuckDuckGo"),
        "yahoo": ("yahoo", "Yahoo!"),
        "yahoo!": ("yahoo", "Yahoo!"),
        "rambler": ("rambler", "Rambler"),
    },
    "ad": {
        "yandex direct": ("Яндекс: Директ", "Yandex: Direct"),
        "yandex: direct": ("Яндекс: Директ", "Yandex: Direct"),
        "яндекс: директ": ("Яндекс: Директ", "Yandex: Direct"),
        "yandex_direct": ("Яндекс: Директ", "Yandex: Direct"),
        "google ads": ("Google Ads", "Google Ads"),
        "google_adwords": ("Google Ads", "Google Ads"),
    },
    "social": {
        "vk": ("vk", "VKontakte"),
        "vk.com": ("vk", "VKontakte"),
        "vkontakte": ("vk", "VKontakte"),
        "вконтакте": ("vk", "VKontakte"),
        "odnoklassniki": ("odnoklassniki", "Odnoklassniki"),
        "ok.ru": ("odnoklassniki", "Odnoklassniki"),
        "одноклассники": ("odnoklassniki", "Odnoklassniki"),
        "ya": ("ya", "Ya.ru"),
        "youtube": ("youtube", "YouTube"),
        "twitter": ("twitter", "Twitter"),
        "pinterest": ("pinterest", "Pinterest"),
        "reddit": ("reddit", "Reddit"),
    },
    "messenger": {
        "telegram": ("telegram", "Telegram"),
        "whatsapp": ("whatsapp", "WhatsApp"),
        "viber": ("viber", "Viber"),
        "yandex_chats": ("yandex_chats", "Yandex Messenger"),
    },
    "recommend": {
        "zen": ("zen_yandex", "Dzen"),
        "dzen": ("zen_yandex", "Dzen"),
        "дзен": ("zen_yandex", "Dzen"),
        "zen_yandex": ("zen_yandex", "Dzen"),
        "google discover": ("google_discover", "Google Discover"),
        "google_discover": ("google_discover", "Google Discover"),
    },
}
"""Per traffic source: known spellings (lower case) → (engine identifier, English name)."""
DOMAIN_SOURCES = frozenset({"referral", "internal"})
_NAMES = {
    f"{source}.{engine}": name for source, table in KNOWN.items() for engine, name in table.values()
}


def engine_id(traffic_source: str | None, source_detail: str | None) -> str | None:
    """The ``SourceEngine`` id of a visit (``None`` when it has no detail)."""
    detail = (source_detail or "").strip()
    if not detail:
        return None
    source = traffic_source or "undefined"
    known = KNOWN.get(source, {}).get(detail.lower())
    if known is not None:
        return f"{source}.{known[0]}"
    if source in DOMAIN_SOURCES:
        return f"{source}.{detail.lower()}"
    if source == "ad":
        return f"{source}.{detail}"
    return f"{source}.{detail.lower().replace(' ', '_')}"


def engine_name(engine: str) -> str:
    """The English name shown beside an id: the known name, else the part after the source."""
    return _NAMES.get(engine) or engine.partition(".")[2]
