/**
 * The live monitoring page: one self-contained HTML document (no external
 * script, style or font) that polls the data route every second and draws
 * the last five minutes of throughput and of latency percentiles on two
 * canvases. The monitoring key comes from the page's own query string.
 */
export function livePage (dataPath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>riptide live</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1.5rem; color: #1b2733; background: #f7f9fb; }
  h1 { font-size: 1.2rem; margin: 0 0 .5rem; }
  .now { display: flex; gap: 2rem; margin: .5rem 0 1rem; }
  .now div { min-width: 9rem; } .now b { display: block; font-size: 1.4rem; }
  canvas { background: #fff; border: 1px solid #d5dde5; display: block; margin-bottom: 1rem; }
  .legend span { margin-right: 1rem; } .legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; }
</style>
</head>
<body>
<h1>riptide, live</h1>
<div class="now">
  <div>messages in/s<b id="in">-</b></div>
  <div>deliveries/s<b id="out">-</b></div>
  <div>connections<b id="conns">-</b></div>
  <div>workers<b id="workers">-</b></div>
</div>
<div class="legend"><span><i style="background:#2b6cb0"></i>messages in/s</span><span><i style="background:#2f855a"></i>deliveries/s</span></div>
<canvas id="throughput" width="900" height="220" data-points="0"></canvas>
<div class="legend"><span><i style="background:#805ad5"></i>handling p50</span><span><i style="background:#d69e2e"></i>p99</span><span><i style="background:#c53030"></i>p99.9</span><span>(all topics, µs)</span></div>
<canvas id="latency" width="900" height="220" data-points="0"></canvas>
<script>
const dataUrl = ${JSON.stringify(dataPath)} + location.search
const keep = 300
const series = { in: [], out: [], p50: [], p99: [], p999: [] }
let previous = null

function worst (percentilesByTopic, field) {
  let value = 0
  for (const p of Object.values(percentilesByTopic)) value = Math.max(value, p[field])
  return value
}

function draw (canvas, lines) {
  const ctx = canvas.getContext('2d')
  const { width, height } = canvas
  ctx.clearRect(0, 0, width, height)
  const max = Math.max(1, ...lines.flatMap((line) => line.values))
  ctx.fillStyle = '#5a6b7b'
  ctx.fillText(String(Math.round(max)), 4, 12)
  ctx.fillText('0', 4, height - 4)
  for (const { values, color } of lines) {
    ctx.strokeStyle = color
    ctx.lineWidth = 2
    ctx.beginPath()
    values.forEach((v, i) => {
      const x = width - (values.length - 1 - i) * (width / keep)
      const y = height - 6 - (v / max) * (height - 20)
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y)
    })
    ctx.stroke()
  }
  canvas.dataset.points = String(Math.max(...lines.map((line) => line.values.length)))
}

async function tick () {
  try {
    const response = await fetch(dataUrl)
    if (!response.ok) throw new Error(response.status)
    const now = await response.json()
    if (previous !== null) {
      const seconds = Math.max(0.001, (now.at - previous.at) / 1000)
      const push = (name, value) => { series[name].push(value); if (series[name].length > keep) series[name].shift() }
      push('in', (now.totals.received - previous.totals.received) / seconds)
      push('out', (now.totals.deliveries - previous.totals.deliveries) / seconds)
      push('p50', worst(now.handlingMicros, 'p50'))
      push('p99', worst(now.handlingMicros, 'p99'))
      push('p999', worst(now.handlingMicros, 'p999'))
      document.getElementById('in').textContent = Math.round(series.in.at(-1))
      document.getElementById('out').textContent = Math.round(series.out.at(-1))
      draw(document.getElementById('throughput'), [{ values: series.in, color: '#2b6cb0' }, { values: series.out, color: '#2f855a' }])
      draw(document.getElementById('latency'), [{ values: series.p50, color: '#805ad5' }, { values: series.p99, color: '#d69e2e' }, { values: series.p999, color: '#c53030' }])
    }
    document.getElementById('conns').textContent = now.connections.reduce((a, b) => a + b, 0)
    document.getElementById('workers').textContent = now.workers
    previous = now
  } catch (error) {
    document.title = 'riptide live (no data: ' + error.message + ')'
  }
}
tick()
setInterval(tick, Number(new URLSearchParams(location.search).get('interval') ?? 1000))
</script>
</body>
</html>
`
}
