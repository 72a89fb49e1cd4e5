"""The on-site data path as plain library classes, each hostable by one actor (``actors/``).

- ``camera_station``: ``CameraStation`` (telescope simulation, bounded R1 buffer, readout, camera
  monitoring from interleaved pedestal events) -> ``TriggerReport``, ``Readout``
- ``central_trigger``: ``CentralTrigger`` (stereo coincidence, R1 bytes) -> ``Decision``
- ``reducer``: ``BlockReducer`` (R1 -> DL0 for every reduction variant, truth impacts) -> ``Reduced``
- ``archive_writer``: ``RunArchiver`` (one DL0 archive per stream with its side tables) -> ``Ack``
- ``archive_journal``: ``ArchiveJournal`` (each archived block once, by stream and block index: what
  a restarted archiver or a resumed run continues from)
- ``technical``: pointing and weather records
- ``monitor``: ``RunMonitor`` (merges the per-block acknowledgements into the run summary)

No module here imports Ray or the actor layer; the wall time of each call is measured and
attached by the host (the ``wall_seconds`` / ``timing`` fields), not by the components.
"""
