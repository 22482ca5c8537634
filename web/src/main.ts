document.getElementById('app')!.textContent = 'runlog';
