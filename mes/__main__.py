from mes.cli import run

run()
