from . import crm_stage_map
from . import crm_lead_reassign
from . import sales_funnel_target_copy
from . import crm_stage_tuning
from . import sales_funnel_change_period
