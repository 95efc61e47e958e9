"""REST handlers, one module per resource; each handler is ``async def (ctx: Context) -> dict``."""
