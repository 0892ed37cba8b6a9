"""`xxgk serve`: the monitor as a service — the Telegram bot and an APScheduler scheduler in one
asyncio loop, until SIGINT/SIGTERM.

    plan       what is scheduled: job ids, triggers and names from the [schedule] config (pure)
    jobstore   the persistent job store on the project's database: creating, syncing, reading
    work       the work itself, shared with the CLI: a crawl (recording one cut short), sweeps
    jobs       the job functions the job store refers to (by name), calling into the runtime
    runtime    the running service: bot, scheduler, locks, the work in flight, a clean stop
    logs       structured one-line-per-event logging, with secrets blanked out
    status     what `xxgk status` shows, read from the store without starting anything
"""
