"""Hypothesis strategies shared by the property tests.

``json_values`` is what ``JSON.parse`` can hand the app (plus NaN and infinities, which the
host's JSON round trip would turn into null but a broken library might not): the input space
every parser of host data must survive.
"""

from __future__ import annotations

from hypothesis import strategies as st

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)

json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=10,
)
