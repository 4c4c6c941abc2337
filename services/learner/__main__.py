"""``python -m services.learner [run|migrate|provision|replay|dlq-retry SEQ|rollback]``.

``rollback`` (what ``xbot model rollback`` runs) republishes the previous model version as a new ModelUpdated;
the other subcommands are every service's (libs.runtime.service.service_main)."""

from libs.runtime.service import service_main
from services.learner.app import Settings, build

if __name__ == "__main__":
    service_main(build, Settings)
