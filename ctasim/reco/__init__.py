"""DL2 reconstruction: stereo geometry (``stereo``), LightGBM energy and gamma/hadron models
(``models``), DL2 tables (``dl2``), performance figures (``metrics``), toy DL1 tables (``toy``)
and the ctapipe cross-check (``ctapipe_compat``, needs ctapipe)."""
