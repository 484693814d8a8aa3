from . import crm_stage
from . import crm_lead
from . import crm_lead_stage_history
from . import mail_activity
from . import res_config_settings
from . import sales_funnel_demo
from . import sales_funnel_forecast_snapshot
from . import sales_funnel_target
