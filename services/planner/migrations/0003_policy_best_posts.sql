-- The learner's best-rewarded own posts of the policy in force (ModelUpdated.best_posts): examples of the voice.
ALTER TABLE policy ADD COLUMN best_posts jsonb NOT NULL DEFAULT '[]';
