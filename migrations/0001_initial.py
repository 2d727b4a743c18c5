"""Schema 1: the first layout (see vision_cache.ledger.Keys for the key families).

Records when the store was made. (Release 0.1.0 also created the per-install secret here, in a
``secret.key`` file or, on Redis, as bare hex text; step 0002 moves it into the store.)
"""

import time

from vision_cache.ledger import Keys


def upgrade(store):
    store.add(Keys.CREATED, {"at": time.time()}, None)
