from . import crm_stage_map_wizard
from . import crm_lead_reassign_wizard
