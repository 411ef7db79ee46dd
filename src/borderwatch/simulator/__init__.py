"""Feed simulator: six government agency endpoints on loopback HTTP, deterministic from seed and scale.

``scenario`` builds the data (reproducing the public figures), ``server`` serves it exactly as
``feeds/README.md`` describes, ``faults`` bends it the way real agency servers do, ``cli`` is
``borderwatch feeds ...``.
"""
