from libs.runtime.service import service_main
from services.console.app import Settings, build

if __name__ == "__main__":
    service_main(build, Settings)
