from . import crm_stage_map_wizard
from . import crm_lead_reassign_wizard
from . import sales_funnel_target_copy_wizard
