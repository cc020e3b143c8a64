"""Entry point of the install page (the app's install URL): wiring only.

HANDLER_URL is the one place to override the card's handler URL. Left empty, it is the folder
this page is served from (``https://host/path/install.html`` -> ``https://host/path/``).
"""

import js

from bx24_bridge import default_bridge, log_to_console
from callcard.install_page import InstallPage
from callcard.install_view import InstallView

HANDLER_URL = ""

log_to_console()
await InstallPage(  # noqa: F704
    bridge=default_bridge(), view=InstallView(), page_url=str(js.location.href),
    handler_override=HANDLER_URL,
).run()
