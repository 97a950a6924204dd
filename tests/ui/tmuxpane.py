"""tmuxpane.py - runs one program in a private tmux server for the dashboard
tests: its own socket (-L), no user config, the pane kept after the program
exits (to read its exit status). Everything is stopped by socket and PID,
never by name."""
import os
import re
import signal
import subprocess
import tempfile
import time
import uuid

UTF8_ENV = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
# TmuxPane(after=LEFT_BEHIND): once the program is gone, the terminal's
# modes go to a file, then a pause keeps the pane alive (tmux reports a dead
# pane's cursor as hidden) for terminal_left() to look.
LEFT_BEHIND = "stty -a > {dir}/stty.txt; touch {dir}/after; sleep 3"


def colour_codes(escapes):
    """The SGR colour codes in a capture with escapes (39/49, the
    terminal's default colours, are no colour)."""
    codes = []
    for params in re.findall(r"\x1b\[([0-9;]*)m", escapes):
        for code in params.split(";"):
            if code and int(code) not in (39, 49) and \
                    (30 <= int(code) <= 49 or 90 <= int(code) <= 107):
                codes.append(code)
    return codes
SKIP = 77  # meson's exit code for a test that cannot run here


def require_tmux():
    """Exits with meson's skip code when tmux is not installed, so the
    suite reports these tests as skipped instead of dropping them."""
    import shutil
    import sys
    if shutil.which("tmux") is None:
        print("SKIP: tmux is not installed (contrib/deps.sh test installs it)")
        sys.exit(SKIP)


class TmuxPane:
    def __init__(self, argv, width=100, height=30, env=None, cwd=None, after=None):
        self.socket = "mesh-ui-%d-%s" % (os.getpid(), uuid.uuid4().hex[:10])
        self.dir = tempfile.mkdtemp(prefix="mesh-ui-tmux-")
        self.conf = os.path.join(self.dir, "tmux.conf")
        with open(self.conf, "w") as f:
            f.write("set -g remain-on-exit on\n"
                    "set -g default-terminal screen-256color\n"
                    "set -g status off\n"
                    "set -g escape-time 0\n")
        self.env = dict(os.environ)
        self.env.update(UTF8_ENV)
        self.env.pop("TMUX", None)
        # tmux's #{pane_dead_status} is sometimes never filled in (3.3a):
        # a shell runs the program in the foreground and writes its status.
        # It survives ^C (a trap, unlike an ignore, is not inherited) so the
        # program's own reaction to SIGINT is what gets recorded.
        self.status_file = os.path.join(self.dir, "status")
        full = ["env"] + ["%s=%s" % kv for kv in UTF8_ENV.items()]
        full += ["%s=%s" % kv for kv in (env or {}).items()]
        full += [str(a) for a in argv]
        script = 'trap : INT; "$@"; echo $? > %s.tmp; mv %s.tmp %s' % ((self.status_file,) * 3)
        # `after`: a shell command run in the same terminal once the program
        # is gone (e.g. `stty -a > {dir}/stty`, to see the modes it left)
        if after:
            script = 'trap : INT; "$@"; st=$?; %s; echo $st > %s.tmp; mv %s.tmp %s' % (
                (after.format(dir=self.dir),) + (self.status_file,) * 3)
        self.tmux("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height),
                  *(["-c", cwd] if cwd else []), "sh", "-c", script, "sh", *full)
        self.socket_path = self.display("#{socket_path}")
        self.shell_pid = int(self.display("#{pane_pid}"))
        self.pid = self._child_pid()

    def tmux(self, *args, check=True):
        r = subprocess.run(["tmux", "-u", "-L", self.socket, "-f", self.conf, *args],
                           env=self.env, capture_output=True, text=True, timeout=20)
        if check and r.returncode != 0:
            raise RuntimeError("tmux %s: %s" % (" ".join(args), r.stderr.strip()))
        return r.stdout

    def display(self, fmt):
        return self.tmux("display-message", "-p", "-t", "t", fmt).strip()

    def capture(self):
        return self.tmux("capture-pane", "-p", "-t", "t")

    def capture_escapes(self):
        """The screen with its attributes as escape sequences (-e)."""
        return self.tmux("capture-pane", "-p", "-e", "-t", "t")

    def terminal_left(self, timeout=20.0):
        """With after=LEFT_BEHIND: waits until the program is gone, then
        returns (alternate screen on, cursor shown, stty modes)."""
        after = os.path.join(self.dir, "after")
        deadline = time.monotonic() + timeout
        while not os.path.exists(after) and time.monotonic() < deadline:
            time.sleep(0.05)
        with open(os.path.join(self.dir, "stty.txt")) as f:
            modes = f.read().split()
        return (self.display("#{alternate_on}") == "1", self.display("#{cursor_flag}") == "1",
                modes)

    def lines(self):
        return self.capture().split("\n")

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "t", *keys)

    def resize(self, width, height):
        self.tmux("resize-window", "-t", "t", "-x", str(width), "-y", str(height))

    def size(self):
        w, h = self.display("#{pane_width} #{pane_height}").split()
        return int(w), int(h)

    def _child_pid(self):
        """The program's PID: the shell's child (env execs the program)."""
        path = "/proc/%d/task/%d/children" % (self.shell_pid, self.shell_pid)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                with open(path) as f:
                    kids = f.read().split()
            except OSError:
                kids = []
            if kids:
                return int(kids[0])
            if os.path.exists(self.status_file):
                return None          # already exited
            time.sleep(0.02)
        raise AssertionError("program did not start")

    def dead(self):
        """None while the program runs, else its exit status (128+N when
        signal N killed it)."""
        try:
            with open(self.status_file) as f:
                return int(f.read())
        except FileNotFoundError:
            return None

    def wait_for(self, what, timeout=10.0):
        """Waits until the screen contains `what` (a string, or a compiled
        regex, or a callable on the screen text); returns the screen."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.capture()
            if callable(what):
                if what(screen):
                    return screen
            elif isinstance(what, re.Pattern):
                if what.search(screen):
                    return screen
            elif what in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError("timed out waiting for %r; screen:\n%s" % (what, screen))

    def wait_exit(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.dead()
            if st is not None:
                return st
            time.sleep(0.1)
        raise AssertionError("program still running; screen:\n" + self.capture())

    def close(self):
        self.tmux("kill-server", check=False)
        try:                      # tmux leaves its socket file behind
            os.unlink(self.socket_path)
        except OSError:
            pass
        # tmux sends SIGHUP; make sure our program is gone, by its PID only
        for pid in (self.pid, self.shell_pid):
            if pid is None:
                continue
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.05)
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        for f in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, f))
        os.rmdir(self.dir)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purposes (its parent, tmux, is gone too)
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
