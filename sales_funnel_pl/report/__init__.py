from . import sales_funnel_stage_rollup
from . import sales_funnel_stage_report
from . import sales_funnel_forecast_report
from . import sales_funnel_velocity_report
from . import sales_funnel_board
from . import sales_funnel_forecast_won_report
from . import sales_funnel_change_report
