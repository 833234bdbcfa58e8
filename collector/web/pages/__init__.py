"""Page handlers by area: thin, they parse the request, call collector.services and render."""
