"""The neutral data model: every block and table that crosses a stage boundary, in one place.

The simulator produces these types and processing consumes them; neither imports the other.

- ``ids``: event and telescope ids, particle ids, the per-event key
- ``r1``: R1 blocks (``TelescopeEvents``) and the R1 size model
- ``dl0``: DL0 blocks (``EncodedBlock``), ``codecs`` (their lossless codecs) and ``charge_coding``
  (lossy fixed-step coding of charges and peak times)
- ``simulation``: shower truth, impacts, what was simulated
- ``trigger``, ``monitoring``: trigger tables and technical data
- ``dl1``, ``dl2``: image parameters, images, reconstructed events
- ``paths``: every HDF5 path and file attribute; ``version``: the data-model version
"""
