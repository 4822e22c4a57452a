// DateTime.Today as the legacy writes it into status_abfrage_datum: the server's local date, YYYY-MM-DD.

export function serverToday(): string {
  const now = new Date()
  const month = String(now.getMonth() + 1).padStart(2, '0')
  const day = String(now.getDate()).padStart(2, '0')
  return `${String(now.getFullYear()).padStart(4, '0')}-${month}-${day}`
}
