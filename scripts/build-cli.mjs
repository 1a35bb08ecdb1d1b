// placeholder: the CLI bundle (main/cli) lands with the core issue
