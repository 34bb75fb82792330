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
ACTION_CHOOSE_DESTINATION = "destination"  # in the brief modal: re-render with that destination's package (the Draft field name)
ACTION_CHOOSE_ENG_KIND = "eng_kind"  # in the brief modal: defect or not, for Engineering (the Draft field name)
ACTION_EXPORT = "brief_export"
ACTION_RETRY_DELIVERY = "brief_retry_delivery"
# File now, complete later (bot.usecases.complete_brief): Critical briefs posted with only the essentials
ACTION_CHOOSE_SEVERITY = "severity"  # in the brief modal: re-render to offer (or not) Post now (the Draft field name)
ACTION_POST_NOW = "post_now"  # in the brief modal: the "Post now, complete within 30 min" checkbox (the Draft field name)
BLOCK_POST_NOW = ACTION_POST_NOW
ACTION_COMPLETE_BRIEF = "brief_complete"  # on the posted brief, the agent's DM, the form's result and reminders, the Home tab
VIEW_COMPLETE_BRIEF = "brief_complete"  # the brief form, pre-filled, that completes it
BLOCK_INCOMPLETE = "brief_incomplete"  # the "Incomplete: … missing" section

# Fixed block ids on the posted brief
BLOCK_BRIEF_ACTIONS = "brief_actions"

# Follow-through: buttons on the posted brief (the receiving team) and on nudges (the agent).
ACTION_ACKNOWLEDGE = "brief_acknowledge"
ACTION_ASK_INFO = "brief_ask_info"
ACTION_POST_UPDATE = "brief_post_update"
ACTION_VIEW_LOG = "brief_view_log"
ACTION_LOG_CHECKIN = "nudge_log_checkin"
ACTION_LOG_CUSTOMER_UPDATE = "nudge_log_customer_update"
ACTION_CHANGE_SEVERITY = "nudge_change_severity"
ACTION_SNOOZE_PREFIX = "nudge_snooze_"  # + minutes; the value is the follow-up id
ACTION_SNOOZE_PATTERN = f"^{ACTION_SNOOZE_PREFIX}(\\d+)$"  # what the snooze listener matches
SNOOZE_MINUTES = (30, 60, 120)

VIEW_LOG_CHECKIN = "log_checkin"
VIEW_LOG_CUSTOMER_UPDATE = "log_customer_update"
VIEW_ASK_INFO = "ask_info"
VIEW_POST_UPDATE = "post_update"
VIEW_CHANGE_SEVERITY = "change_severity"
VIEW_RUNNING_LOG = "running_log"

# Input blocks of those modals
BLOCK_NOTE = "note"
BLOCK_SEVERITY = "severity"
BLOCK_REASON = "reason"

# Triage: the decision helper
VIEW_TRIAGE = "triage"
VIEW_TRIAGE_RESULT = "triage_result"
ACTION_TRIAGE_FIRST = "brief_triage_first"  # in the brief modal: "Not sure? Triage first"
ACTION_TRIAGE_WRITE = "triage_write_brief"  # in the result: open the brief modal pre-filled
BLOCK_TRIAGE_SYMPTOM = "triage_symptom"
BLOCK_TRIAGE_GROUP_PREFIX = "triage_group_"  # + the group's index
BLOCK_TRIAGE_SIMILAR = "triage_similar"

# Lifecycle: fixed, de-escalation, resolution (close with lessons learned), re-open
ACTION_MARK_FIXED = "brief_mark_fixed"
ACTION_DEESCALATE = "brief_deescalate"
ACTION_CLOSE = "brief_close"  # the agent: close with lessons learned
ACTION_REOPEN = "brief_reopen"
VIEW_DEESCALATE = "deescalate"
VIEW_CLOSE = "close_with_lessons"
# Input blocks (block_id = action_id), by the domain's field names (bot.domain.lifecycle)
DEESCALATE_BLOCKS = {"reason": "deesc_reason", "findings": "deesc_findings", "root_cause": "deesc_root_cause", "customer_told": "deesc_customer_told"}
CLOSE_BLOCKS = {"confirmed": "close_confirmed", "what_happened": "close_what_happened", "root_cause": "close_root_cause", "next_time": "close_next_time"}
# App Home and /escalate list (insight)
ACTION_HOME_OPEN = "home_open_brief"  # a link button: acked, nothing to do
ACTION_HOME_PREVIOUS = "home_page_previous"  # value: {"mine": offset, "team": offset}, the page to show
ACTION_HOME_NEXT = "home_page_next"
HOME_MINE, HOME_TEAM = "mine", "team"  # the Home tab's two lists: in block ids and in the paging buttons' values
BLOCK_HOME_ROW_PREFIX = "home_row_"  # + section (mine|team) + "_" + escalation id
BLOCK_HOME_NAV_PREFIX = "home_nav_"  # + section
# Move to another team (bot.usecases.move): the button on the brief, the modal, its destination select
ACTION_MOVE = "brief_move"
ACTION_MOVE_DESTINATION = "move_destination"  # in the move modal: re-render with that destination's package
VIEW_MOVE = "move"
# Input blocks (block_id = action_id); the package's inputs use their Draft field names, as in the brief modal
MOVE_BLOCKS = {"destination": ACTION_MOVE_DESTINATION, "reason": "move_reason"}
# Drafts: the brief form's state kept when it closes (bot.usecases.drafts), offered back by /escalate and Home
VIEW_DRAFT_OFFER = "brief_draft_offer"  # the small first view: continue the draft or start fresh (no submit: nothing listens to it)
ACTION_DRAFT_CONTINUE = "brief_draft_continue"  # in that view (views.update) and on the Home tab (views.open)
ACTION_DRAFT_FRESH = "brief_draft_fresh"
BLOCK_DRAFT_CHOICE = "brief_draft_choice"
BLOCK_HOME_DRAFT = "home_draft"
# Pattern links: "possibly the same problem" suggestions (the agent's result view and DM, the posted
# brief's thread). Value "<this brief's id>:<the suggested brief's id>"; block id = prefix + suggested id.
ACTION_PATTERN_SAME = "pattern_same_problem"
ACTION_PATTERN_NOT_RELATED = "pattern_not_related"
BLOCK_PATTERN_SUGGESTION_PREFIX = "pattern_suggestion_"
