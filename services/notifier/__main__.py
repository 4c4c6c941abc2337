from libs.runtime.service import service_main
from services.notifier.app import Settings, build

if __name__ == "__main__":
    service_main(build, Settings)
