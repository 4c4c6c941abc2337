-- The reply policy of the model in force (ModelUpdated.replies, issue 24): what plan_replies draws reply styles,
-- voices and targets from. '{}' before the first reply model (the fixed ranking with exploration then).
ALTER TABLE policy ADD COLUMN replies json NOT NULL DEFAULT '{}';
