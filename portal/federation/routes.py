"""Every route of the peer API (/federation/v1/…) and the pages of the network, imported once so
each registers on its blueprint: one import per module, none of them importing another through here."""
from portal.federation import views  # noqa: F401  (bp, /node, /ping)
from portal.federation import search_views  # noqa: F401  (/search)
from portal.federation import messages_views  # noqa: F401  (/records/…, /messages)
from portal.federation import certificate_views  # noqa: F401  (/certificates/<serial>)
from portal.federation import peer_pages  # noqa: F401  (/admin/peers, on the administration blueprint)
