"""One module per panel; each defines ``PanelWidget(Panel)``. See ``cvexplorer.ui.registry``."""
