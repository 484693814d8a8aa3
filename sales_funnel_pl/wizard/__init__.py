from . import crm_stage_map
from . import crm_lead_reassign
