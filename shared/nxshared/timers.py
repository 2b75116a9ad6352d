"""The suite's periodic entrypoint: nameko's timer with its interval read from the service's config."""

from nameko.timer import Timer


class SettingTimer(Timer):
    """nameko's timer, its interval read from the service's config (``setting``) at start, and
    firing at start too (``eager``). What it finds is computed on the suite's clock (``TODAY``), so
    tests move time by the setting, not by waiting."""

    def __init__(self, setting, **kwargs):
        self.setting = setting
        super().__init__(interval=None, eager=True, **kwargs)

    def setup(self):
        self.interval = float(self.container.config[self.setting])
        if self.interval <= 0:
            raise ValueError(f"{self.setting} must be a positive number of seconds")


every = SettingTimer.decorator
