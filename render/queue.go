package render

// Queue reports the conversions drawing now (holding a worker) and those
// waiting for one, for the conversion-queue gauges.
func (r *Renderer) Queue() (running, waiting int) {
	return len(r.slots), int(r.waiting.Load())
}
