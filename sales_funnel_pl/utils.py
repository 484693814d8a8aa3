def success_notification(message):
    """Client action closing the wizard or dialog and showing ``message``."""
    return {
        "type": "ir.actions.client",
        "tag": "display_notification",
        "params": {
            "type": "success",
            "message": message,
            "next": {"type": "ir.actions.act_window_close"},
        },
    }
