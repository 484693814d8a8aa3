from . import test_crm_stage
from . import test_crm_lead_probability
from . import test_crm_stage_map_wizard
from . import test_crm_lead_reassign_wizard
from . import test_crm_lead_stage_history
from . import test_crm_lead_next_action
from . import test_ui
from . import test_concurrency
