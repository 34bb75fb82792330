"""Every callback_id, action_id and fixed block_id, in one place for builders, listeners and tests.

Input blocks in the brief modal use the `Draft` field name as both block_id and action_id, so a
validation error keyed by field lands on the right block without a mapping table.
"""

# Slash command and shortcut
COMMAND = "/escalate"
SHORTCUT_ESCALATE_MESSAGE = "escalate_message"

# Views
VIEW_BRIEF = "brief_modal"
VIEW_EXPORT = "brief_export"
VIEW_BRIEF_RESULT = "brief_result"  # the modal after Escalate: saving, posted, or not delivered

# Actions
ACTION_EXPORT = "brief_export"
ACTION_RETRY_DELIVERY = "brief_retry_delivery"
ACTION_OPEN_LINK = "brief_open_link"  # a URL button: Slack still sends block_actions, which we ack

# Fixed block ids on the posted brief
BLOCK_BRIEF_ACTIONS = "brief_actions"
