import { spawn } from 'node:child_process'

/**
 * Runs a built bin (`node <bin>`) with `env` on top of this process's environment until it exits,
 * or SIGKILLs it after `ms` (then `code` is `'still running'`).
 * @returns the exit code (or signal), the output, and stderr's lines (the JSON log lines)
 */
export async function runBin (bin: string, env: Record<string, string>, ms = 15_000) {
  const child = spawn(process.execPath, [bin], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const timer = setTimeout(() => child.kill('SIGKILL'), ms)
  const code = await new Promise<number | string>((resolve) => child.on('exit', (c, s) => resolve(s === 'SIGKILL' ? 'still running' : (c ?? String(s)))))
  clearTimeout(timer)
  return { code, stdout, stderr, lines: stderr.split('\n').filter(Boolean) }
}
