"""`imagine tui`: the Textual dashboard over the imagined daemon.

    app.py             DashboardApp and `create_app(client)`, the factory tests pass a client-like object to
    link.py            the status stream: connection state, reconnecting with backoff
    client.py          the `DashboardClient` protocol: the part of `imagine.client.Client` the dashboard uses
    queue_state.py     what the queue table shows, updated from List pages and Watch events (pure)
    cells.py           table cells and short texts: progress bars, ETAs, states (pure)
    screens/           dashboard, submit form, history, help, confirmation
    widgets/           one widget per file
"""
