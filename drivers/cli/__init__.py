"""SSH CLI switch drivers, one module per netmiko platform (registered in drivers.REGISTRY)."""
