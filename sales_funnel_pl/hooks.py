import logging

_logger = logging.getLogger(__name__)


def _funnel_stage_ids(env):
    return env["crm.stage"]._get_funnel_stages().ids


def post_init_hook(env):
    """Archive the stages the company no longer needs.

    Stages that are not part of the funnel and hold no opportunity (active
    or lost) are archived; stages that hold opportunities stay active and no
    opportunity moves by itself: the stage mapping wizard does that on
    request.
    """
    Stage = env["crm.stage"].with_context(active_test=False)
    other_stages = Stage.search([("id", "not in", _funnel_stage_ids(env))])
    used_stage_ids = {
        stage.id
        for [stage] in env["crm.lead"]
        .with_context(active_test=False)
        ._read_group([("stage_id", "in", other_stages.ids)], ["stage_id"])
    }
    unused = other_stages.filtered(lambda stage: stage.id not in used_stage_ids)
    unused.write({"active": False})
    _logger.info(
        "sales_funnel_pl: archived %s unused stages, kept %s stages holding "
        "opportunities",
        len(unused),
        len(used_stage_ids),
    )


def uninstall_hook(env):
    """Keep the funnel stages that still hold opportunities.

    ``crm.lead.stage_id`` is ``ondelete='restrict'``: Odoo cannot delete a
    stage that an opportunity uses. Such stages are detached from the module
    (their external id removed) so that they stay as the company's own
    stages, with every opportunity in them; unused funnel stages are deleted
    with the module. Demo opportunities and their customers are kept the same
    way. Stages archived while the module was installed show again, as the
    ``active`` field goes away with it.
    """
    funnel_stage_ids = _funnel_stage_ids(env)
    used_stage_ids = [
        stage.id
        for [stage] in env["crm.lead"]
        .with_context(active_test=False)
        ._read_group([("stage_id", "in", funnel_stage_ids)], ["stage_id"])
    ]
    IrModelData = env["ir.model.data"]
    kept = IrModelData.search(
        [
            ("module", "=", "sales_funnel_pl"),
            ("model", "=", "crm.stage"),
            ("res_id", "in", used_stage_ids),
        ]
    )
    # demo opportunities are opportunities too: keep them with their customers
    lead_data = IrModelData.search(
        [("module", "=", "sales_funnel_pl"), ("model", "=", "crm.lead")]
    )
    partner_ids = (
        env["crm.lead"]
        .with_context(active_test=False)
        .browse(lead_data.mapped("res_id"))
        .exists()
        .partner_id.ids
    )
    kept |= lead_data
    kept |= IrModelData.search(
        [
            ("module", "=", "sales_funnel_pl"),
            ("model", "=", "res.partner"),
            ("res_id", "in", partner_ids),
        ]
    )
    kept.unlink()
    _logger.info(
        "sales_funnel_pl: %s funnel stages holding opportunities kept on uninstall",
        len(used_stage_ids),
    )
