"""DL2 reconstruction: stereo geometry (``stereo``), LightGBM energy and gamma/hadron models
(``models``), DL2 tables (``dl2``), performance figures (``metrics``) and toy DL1 tables
(``toy``); the ctapipe cross-check is in ``ctasim.ctapipe_compat``."""
