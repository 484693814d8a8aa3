from . import crm_stage_map_wizard
