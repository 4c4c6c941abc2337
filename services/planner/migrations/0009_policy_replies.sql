-- The reply policy of the model in force (ModelUpdated.replies, issue 24): what plan_replies draws reply styles,
-- voices and targets from. '{}' before the first reply model (the fixed ranking with exploration then).
ALTER TABLE policy ADD COLUMN replies json NOT NULL DEFAULT '{}';
-- The learner's engagement predictor of the model in force (ModelUpdated.predictors.engagement): what the planner
-- scores its drafts with when it writes several per slot (XBOT_PLAN_DRAFTS_PER_SLOT). '{}' before any.
ALTER TABLE policy ADD COLUMN predictor json NOT NULL DEFAULT '{}';
